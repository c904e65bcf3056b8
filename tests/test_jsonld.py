"""The schema.org/Event JSON-LD on every event page, read the way a
structured-data validator reads it: one well-formed block, the properties
search engines require for an event (name, startDate, location with an
address or a URL), the attendance mode, status, organizer, performer and a
free offer, and nothing staff type can end the script element or leak the
online URL.
"""
import datetime
import json
import re

import pytest

SCHEMA = "https://schema.org/"


def jsonld(html):
    blocks = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    assert len(blocks) == 1, blocks
    return json.loads(blocks[0])


def test_an_in_person_event_is_a_valid_schema_org_event(api, db, make_event):
    slug = make_event(format="in_person", location="Main Library, Room 2",
                      presenter="Pat Reyes", organizer="Riverside Library",
                      capacity=5)
    ev = jsonld(api.get(f"/events/{slug}").text)
    assert ev["@context"] == "https://schema.org" and ev["@type"] == "Event"
    assert ev["name"] == f"Test event {slug}" and ev["url"] == f"{api.base}/events/{slug}"
    start = datetime.datetime.fromisoformat(ev["startDate"])
    assert start == db.value("SELECT date_trunc('second', starts_at) FROM eventbox.events"
                             " WHERE slug = %s", slug)
    assert datetime.datetime.fromisoformat(ev["endDate"]) - start == datetime.timedelta(hours=1)
    assert ev["eventStatus"] == SCHEMA + "EventScheduled"
    assert ev["eventAttendanceMode"] == SCHEMA + "OfflineEventAttendanceMode"
    assert ev["location"] == [{"@type": "Place", "name": "Main Library, Room 2",
                               "address": "Main Library, Room 2"}]
    assert ev["organizer"] == {"@type": "Organization", "name": "Riverside Library",
                               "url": f"{api.base}/events"}
    assert ev["performer"] == {"@type": "Person", "name": "Pat Reyes"}
    assert ev["isAccessibleForFree"] is True
    offer = ev["offers"]
    assert offer["@type"] == "Offer" and offer["price"] == "0"
    assert offer["availability"] == SCHEMA + "InStock"


def test_online_hybrid_full_cancelled_and_members_only(api, db, make_event):
    online = make_event(format="online", capacity=0, waitlist=False)
    ev = jsonld(api.get(f"/events/{online}").text)
    assert ev["eventAttendanceMode"] == SCHEMA + "OnlineEventAttendanceMode"
    assert ev["location"] == [{"@type": "VirtualLocation",
                               "url": f"{api.base}/events/{online}"}]
    assert ev["offers"]["availability"] == SCHEMA + "SoldOut"
    assert "performer" not in ev
    hybrid = make_event(format="hybrid", location="Room 3", members_only=True,
                        status="cancelled")
    ev = jsonld(api.get(f"/events/{hybrid}").text)
    assert ev["eventAttendanceMode"] == SCHEMA + "MixedEventAttendanceMode"
    assert [p["@type"] for p in ev["location"]] == ["Place", "VirtualLocation"]
    assert ev["eventStatus"] == SCHEMA + "EventCancelled"
    assert "members" in ev["offers"]["description"]
    waitlist = make_event(capacity=0)
    ev = jsonld(api.get(f"/events/{waitlist}").text)
    assert ev["offers"]["availability"] == SCHEMA + "LimitedAvailability"


def test_staff_text_cannot_end_the_script_or_leak_the_online_url(api, make_event):
    title = '</script><script>alert(1)</script> & "quotes"'
    slug = make_event(title=title, description="a </SCRIPT> b", format="online")
    html = api.get(f"/events/{slug}").text
    assert "<script>alert(1)" not in html
    ev = jsonld(html)
    assert ev["name"] == title and ev["description"] == "a </SCRIPT> b"
    assert "meet.example.org" not in html


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc)


# Nobody can register for a cancelled event, once registration has closed
# or the event has begun; before it opens the offer is a pre-order that
# starts then; while open, the seats decide.
@pytest.mark.parametrize("case, cols, availability", [
    ("open", dict(capacity=5), "InStock"),
    ("waiting list only", dict(capacity=0), "LimitedAvailability"),
    ("full", dict(capacity=0, waitlist=False), "SoldOut"),
    ("cancelled", dict(status="cancelled"), "Discontinued"),
    ("closed", dict(registration_closes_at=utcnow() - datetime.timedelta(minutes=5)),
     "SoldOut"),
    ("started", dict(starts_in="-5 minutes"), "SoldOut"),
    ("past", dict(starts_in="-3 days"), "SoldOut"),
    ("cancelled and past", dict(status="cancelled", starts_in="-3 days"), "Discontinued"),
    ("not yet open", dict(registration_opens_at=utcnow() + datetime.timedelta(days=2)),
     "PreOrder"),
])
def test_the_offer_says_whether_anybody_can_register(api, db, make_event, case, cols,
                                                      availability):
    slug = make_event(**cols)
    ev = jsonld(api.get(f"/events/{slug}").text)
    offer = ev["offers"]
    assert offer["availability"] == SCHEMA + availability, (case, offer)
    assert ev["eventStatus"] == SCHEMA + ("EventCancelled" if "cancelled" in case
                                          else "EventScheduled")
    if availability != "PreOrder":
        assert "availabilityStarts" not in offer and "validFrom" not in offer
        return
    opens = db.value("SELECT date_trunc('second', registration_opens_at)"
                     " FROM eventbox.events WHERE slug = %s", slug)
    for key in ("availabilityStarts", "validFrom"):
        # With the zone's offset, as startDate.
        assert re.search(r"[+-]\d\d:\d\d$", offer[key]), offer
        assert datetime.datetime.fromisoformat(offer[key]) == opens
