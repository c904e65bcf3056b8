#!/usr/bin/env python3
"""A statistics tool as libraries run them against LibCal: a token (JSON
body), the calendars, the events of a date range, and for each event its
registrations and waiting list with the token.  Prints one line per event:
id, registered, waiting, attended.

usage: stats.py BASE CLIENT_ID CLIENT_SECRET DATE DAYS
"""
import sys

import requests

base, client_id, secret, date, days = sys.argv[1:6]
api = f"{base}/api/1.1"

tok = requests.post(f"{api}/oauth/token",
                    json={"client_id": client_id, "client_secret": secret,
                          "grant_type": "client_credentials"}, timeout=30)
tok.raise_for_status()
s = requests.Session()
s.headers["Authorization"] = "Bearer " + tok.json()["access_token"]

for cal in s.get(f"{api}/calendars", timeout=30).json()["calendars"]:
    events = s.get(f"{api}/events", params={"cal_id": cal["calid"], "date": date,
                                            "days": days, "limit": 500},
                   timeout=30).json()["events"]
    for e in events:
        r = s.get(f"{api}/events/{e['id']}/registrations", params={"waitlist": 1},
                  timeout=30)
        r.raise_for_status()
        for ev in r.json():
            attended = sum(1 for p in ev["registrants"] if p["attendance"] == "Attended")
            emails = ",".join(p["email"] for p in ev["registrants"] + ev["waitlist"])
            print(f"{ev['event_id']} {len(ev['registrants'])} {len(ev['waitlist'])}"
                  f" {attended} {emails}")
