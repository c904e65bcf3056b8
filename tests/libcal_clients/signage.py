#!/usr/bin/env python3
"""A digital-signage script as libraries run them against LibCal: a token
first (client credentials as a form), then today's events with Bearer, as
an HTML page for the screen.  Written the way such scripts are written (no
checks of what LibCal always sends), so a missing key or a None shows.

usage: signage.py BASE CLIENT_ID CLIENT_SECRET CAL_ID [DATE [DAYS]]
"""
import sys

import requests

base, client_id, secret, cal_id = sys.argv[1:5]
date = sys.argv[5] if len(sys.argv) > 5 else ""
days = sys.argv[6] if len(sys.argv) > 6 else "0"

tok = requests.post(f"{base}/1.1/oauth/token",
                    data={"client_id": client_id, "client_secret": secret,
                          "grant_type": "client_credentials"}, timeout=30)
token = tok.json().get("access_token")
headers = {"Authorization": f"Bearer {token}"}
params = {"cal_id": cal_id, "days": days, "limit": 50}
if date:
    params["date"] = date
r = requests.get(f"{base}/1.1/events", params=params, headers=headers, timeout=30)
r.raise_for_status()
print("<ul>")
for e in r.json()["events"]:
    print(f'<li><img src="{e["featured_image"]}" alt="">'
          f'<b>{e["title"]}</b> {e["start"][11:16]} '
          f'{e["location"]["name"]}, {e["campus"]["name"]} '
          f'({e["calendar"]["name"]}; seats left: '
          f'{int(e["seats"]) - int(e["seats_taken"])})</li>')
print("</ul>")
