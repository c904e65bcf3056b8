"""The embeddable list for the consortium's website: an HTML fragment of
upcoming events (all or per category) in the site's language, included
with one line (a server-side include or the CMS's "include URL" block); no
script, absolute links, accessible (a labelled section, a list, <time>),
and cacheable like the feeds.
"""
import datetime
import html
import html.parser
import os
import re
import shutil
import subprocess
import uuid

import pytest

from conftest import ROOT, devstack, wait_healthy


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
                                     "aria-label": "Événements à venir"})
    assert not [a for _, a in f.tags if "id" in a]     # two lists, one page
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


def test_an_event_that_ends_on_another_day_says_that_day(api, db, make_event):
    """The list said an event's end by its time alone: a two-day workshop,
    Thursday 10pm to Saturday 4pm, read "Thursday, ..., 10:00pm–4:00pm",
    an evening that ends before it starts, and an evening talk past
    midnight the same.  The end's date is said when it is another day, as
    the event page and the emails say it."""
    cat = "Embed " + uuid.uuid4().hex[:6]
    slug = make_event(categories=[cat], starts_in="40 days", at="22:00",
                      timezone="America/Chicago")
    db.all("UPDATE eventbox.events SET ends_at = ((starts_at AT TIME ZONE timezone)"
           "::date + 2 + time '16:00') AT TIME ZONE timezone WHERE slug = %s", slug)
    start, end = db.one("SELECT starts_at AT TIME ZONE timezone, ends_at AT TIME ZONE"
                        " timezone FROM eventbox.events WHERE slug = %s", slug)
    q = f"/embed/events?category={cat.replace(' ', '+')}"
    text = "".join(parse(api.get(q).text).text)
    assert (f"{start:%A}, {start:%B} {start.day}, {start.year}, 10:00pm\u2013"
            f"{end:%A}, {end:%B} {end.day}, {end.year}, 4:00pm (") in text, text
    de_days = ["Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag",
               "Sonntag"]
    de_months = ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August",
                 "September", "Oktober", "November", "Dezember"]
    text = "".join(parse(api.get(q + "&lang=de").text).text)
    assert (f"22:00\u2013{de_days[end.weekday()]}, {end.day}. {de_months[end.month - 1]}"
            f" {end.year}, 16:00 (America/Chicago)") in text, text


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
        # the title staff wrote, marked English on the Spanish list
        rows = re.findall(r'<li><a href="([^"]*)" aria-label="([^"]*)">'
                          r'(?:<span lang="en">)?([^<]*)(?:</span>)?</a><br>'
                          r'<span aria-hidden="true">(.*?)</span>\. [^<]*</li>', r.text)
        assert [h for h, _, _, _ in rows] == [f"{api.base}/events/{s}" for s in slugs], r.text
        assert r.text.count('<span lang="en">Story time</span>') == (4 if lang == "es" else 0)
        names = [html.unescape(n) for _, n, _, _ in rows]
        assert len(set(names)) == 4, names
        for (_, _, title, line), name in zip(rows, names):
            shown = html.unescape(re.sub(r"<[^>]*>", "", line))
            assert title == "Story time" and name == f"Story time, {shown}", (name, line)
            assert dash in shown, shown
            assert text.count(shown) == 1, (shown, text)    # said once
        assert ["Room" in n for n in names] == [False, False, True, True], names
        assert names[2].endswith(", Room A") and names[3].endswith(", Room B"), names


PAGE_TAGS = ("html", "head", "body", "title", "meta", "link", "header", "main",
             "footer", "script", "style")


def error_fragment(r, status, lang):
    """An error on /embed/ is the embed's shape: one section, no page
    around it, in the fragment's language, with the absolute link to all
    events or none (nginx's own, which cannot know the site's address)."""
    assert r.status == status, r
    assert r.header("Content-Type") == "text/html; charset=utf-8", r
    assert not r.text.lstrip().lower().startswith("<!doctype"), r.text
    f = parse(r.text)
    tag, attrs = f.tags[0]
    assert tag == "section" and attrs["class"] == "eventbox-list eventbox-error", f.tags
    assert attrs["lang"] == lang and attrs["aria-label"], attrs
    assert r.text.rstrip().endswith("</section>"), r.text
    assert [t for t, _ in f.tags].count("section") == 1, f.tags
    assert not [t for t, _ in f.tags if t in PAGE_TAGS], f.tags
    assert [t for t, _ in f.tags].count("h2") == 1, f.tags
    assert [t for t in f.text if t.strip()][0] == attrs["aria-label"], f.text  # the h2
    assert all(link.startswith("http") for link in f.links), f.links
    return "".join(f.text)


REFUSED = {"en": "This list of events cannot be shown: its address is not valid.",
           "fr": "Cette liste d’événements ne peut pas être affichée\u00a0: son adresse"
                 " n’est pas valide.",
           "es": "Esta lista de eventos no se puede mostrar: su dirección no es válida.",
           "de": "Diese Veranstaltungsliste kann nicht angezeigt werden: ihre Adresse"
                 " ist ungültig."}


@pytest.mark.parametrize("query, lang, why", [
    ("lang=xx", "en", "That language is not one we have"),
    ("lang=fr&lang=de", "en", "The address gives lang more than once."),
    ("limit=0", "en", "limit is a number from 1 to 50."),
    ("lang=fr&limit=51", "fr", "limit is a number from 1 to 50."),
    ("lang=de&limit=2&limit=3", "de", "The address gives limit more than once."),
    ("lang=es&category=" + "x" * 300, "es", "Esa categoría no es válida."),
    ("lang=fr&%ff=1", "fr", "The address is not valid: a parameter name"),
], ids=lambda p: p[:40])
def test_a_refused_query_answers_a_fragment_not_a_page(api, query, lang, why):
    """A whole HTML page (doctype, head, the site's header and footer) was
    the answer to a bad ?lang= or ?limit=: included by SSI, PHP or a CMS
    into the consortium's own page, it put a document inside theirs."""
    text = error_fragment(api.get("/embed/events?" + query), 400, lang)
    assert REFUSED[lang] in text and why in text, text
    r = api.get("/embed/events?" + query)
    assert f'{api.base}/events"' in r.text, r.text
    # the reason, when not in the fragment's language, says which it is in
    if lang not in ("en", "es"):
        assert re.search(r'<p lang="en">[^<]*' + re.escape(html.escape(why, False)),
                         r.text), r.text


def test_other_errors_on_the_embed_are_fragments_too(api):
    r = api.post("/embed/events?lang=es", body=b"x",
                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert REFUSED["es"] in error_fragment(r, 405, "es"), r.text
    assert "GET" in r.header("Allow"), r


def test_with_the_database_down_the_embed_is_an_unavailable_fragment(api):
    devstack("pg-stop")
    try:
        r = api.get("/embed/events?lang=fr")
        text = error_fragment(r, 503, "fr")
        assert "La liste des événements est momentanément indisponible." in text, text
        assert r.header("Retry-After") is not None and r.header("ETag") is None, r
    finally:
        devstack("pg-start")
    wait_healthy(api)
    assert api.get("/embed/events").status == 200


@pytest.mark.skipif(shutil.which("php") is None, reason="php-cli is not installed")
def test_the_php_include_of_pages_md_includes_the_list_and_its_errors(api, tmp_path):
    """docs/PAGES.md's PHP line, as written (at the stack's address): the
    list, and for a refused address the error fragment, not nothing and a
    PHP warning (readfile() gives up on a 4xx or 5xx unless told to read
    it: the 400 of a mistyped ?limit=, the 503 of the database away)."""
    with open(os.path.join(ROOT, "docs", "PAGES.md"), encoding="utf-8") as f:
        (line,) = re.findall(r"`(<\?php readfile\(.*?\?>)`", f.read())
    assert line.count("https://events.example.org/embed/events?lang=fr") == 1, line
    line = line.replace("https://events.example.org", api.base)

    def include(query):
        page = tmp_path / "site.php"
        page.write_text("<main>" + line.replace("?lang=fr", "?lang=fr" + query)
                        + "</main>\n", encoding="utf-8")
        out = subprocess.run(["php", "-d", "display_errors=stdout", str(page)],
                             capture_output=True, text=True, timeout=60)
        assert out.returncode == 0 and "Warning" not in out.stdout + out.stderr, out
        assert out.stdout.startswith("<main>") and out.stdout.endswith("</main>\n"), out
        inner = out.stdout[len("<main>"):-len("</main>\n")].strip()
        assert inner.startswith("<section ") and inner.endswith("</section>"), out.stdout
        return inner
    assert parse(include("")).tags[0][1]["class"] == "eventbox-list"
    refused = include("&limit=0")
    assert REFUSED["fr"] in refused and "limit is a number from 1 to 50." in refused
    assert parse(refused).tags[0][1]["class"] == "eventbox-list eventbox-error"
