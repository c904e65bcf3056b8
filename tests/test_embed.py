"""The embeddable list for the consortium's website: an HTML fragment of
upcoming events (all or per category) in the site's language, included
with one line (a server-side include or the CMS's "include URL" block); no
script, absolute links, accessible (a labelled section, a list, <time>),
and cacheable like the feeds.
"""
import datetime
import html
import html.parser
import re
import uuid


class Fragment(html.parser.HTMLParser):
    """Collects the tags, links and text of a fragment, and checks that
    every element it opens it closes (it can be pasted into any page)."""
    VOID = {"br", "img", "meta", "link", "input"}

    def __init__(self):
        super().__init__()
        self.stack, self.tags, self.links, self.text = [], [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "a":
            self.links.append(dict(attrs)["href"])
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        assert self.stack and self.stack.pop() == tag, (tag, self.stack)

    def handle_data(self, data):
        self.text.append(data)


def parse(body):
    f = Fragment()
    f.feed(body)
    f.close()
    assert f.stack == []
    return f


def test_the_fragment_lists_a_categorys_events_in_french(api, db, make_event):
    cat = "Embed " + uuid.uuid4().hex[:6]
    first = make_event(categories=[cat], format="online", starts_in="40 days")
    second = make_event(categories=[cat], format="in_person", starts_in="41 days",
                        title="Atelier <généalogie> & cie")
    make_event(starts_in="40 days")
    r = api.get(f"/embed/events?category={cat.replace(' ', '+')}&lang=fr")
    assert r.status == 200 and r.header("Content-Type") == "text/html; charset=utf-8", r
    assert r.header("Cache-Control") == "public, max-age=300" and r.header("ETag")
    f = parse(r.text)
    assert f.tags[0] == ("section", {"class": "eventbox-list", "lang": "fr",
                                     "aria-labelledby": "eventbox-list-heading"})
    assert not [t for t, _ in f.tags if t in ("script", "html", "head", "body", "style")]
    assert f.links == [f"{api.base}/events/{first}", f"{api.base}/events/{second}",
                       f"{api.base}/events?category={cat.replace(' ', '%20')}"]
    text = "".join(f.text)
    assert "Événements à venir" in text and "Tous les événements" in text
    assert "Atelier <généalogie> & cie" in text and "En ligne" in text and "Sur place" in text
    start = db.value("SELECT starts_at AT TIME ZONE timezone FROM eventbox.events"
                     " WHERE slug = %s", first)
    months = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
              "septembre", "octobre", "novembre", "décembre"]
    assert f"{start.day} {months[start.month - 1]} {start.year}, {start:%H:%M}" in text
    times = [a["datetime"] for t, a in f.tags if t == "time"]
    assert datetime.datetime.fromisoformat(times[0]).replace(tzinfo=None) == \
        start.replace(microsecond=0)
    assert "meet.example.org" not in r.text


def test_english_by_default_limit_and_bad_queries(api, make_event):
    cat = "Embed " + uuid.uuid4().hex[:6]
    slugs = [make_event(categories=[cat], starts_in=f"{50 + d} days") for d in range(3)]
    f = parse(api.get(f"/embed/events?category={cat.replace(' ', '+')}&limit=2").text)
    assert "Upcoming events" in "".join(f.text)
    assert f.links[:2] == [f"{api.base}/events/{s}" for s in slugs[:2]] and len(f.links) == 3
    assert "There are no upcoming events." in api.get(
        "/embed/events?category=none-" + cat.replace(" ", "+")).text
    for q in ("lang=xx", "limit=0", "limit=51", "category=" + "x" * 300):
        r = api.get("/embed/events?" + q)
        assert r.status == 400 and "text/html" in r.header("Content-Type"), (q, r)


def test_links_to_events_of_one_title_have_names_of_their_own(api, make_event):
    """Each link was named by its title alone: a weekly "Story time" gave a
    screen reader, which lists a page's links out of their lines, several
    links of one name.  A link is named by its title and the line that
    dates it (aria-label: no ids, which two lists included in one page
    would share), that line aria-hidden so that the date is said once; two
    of one title and one start (two rooms) add their location."""
    cat = "Embed " + uuid.uuid4().hex[:6]
    slugs = [make_event(categories=[cat], title="Story time", starts_in=f"{d} days",
                        at="10:00", location=room)
             for d, room in ((60, "Room A"), (67, "Room A"), (74, "Room A"),
                             (74, "Room B"))]
    for lang, dash in (("en", "10:00am\u201311:00am"), ("es", "10:00\u201311:00")):
        r = api.get(f"/embed/events?category={cat.replace(' ', '+')}&lang={lang}")
        assert r.status == 200, r
        text = "".join(parse(r.text).text)
        rows = re.findall(r'<li><a href="([^"]*)" aria-label="([^"]*)">([^<]*)</a><br>'
                          r'<span aria-hidden="true">(.*?)</span>\. [^<]*</li>', r.text)
        assert [h for h, _, _, _ in rows] == [f"{api.base}/events/{s}" for s in slugs], r.text
        names = [html.unescape(n) for _, n, _, _ in rows]
        assert len(set(names)) == 4, names
        for (_, _, title, line), name in zip(rows, names):
            shown = html.unescape(re.sub(r"<[^>]*>", "", line))
            assert title == "Story time" and name == f"Story time, {shown}", (name, line)
            assert dash in shown, shown
            assert text.count(shown) == 1, (shown, text)    # said once
        assert ["Room" in n for n in names] == [False, False, True, True], names
        assert names[2].endswith(", Room A") and names[3].endswith(", Room B"), names
