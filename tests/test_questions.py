"""Questions per event: staff add them (admin API, SQL), patrons answer
them through the JSON API, the answers are checked like every other field,
staff read them in the roster and its CSV, and the purge erases them with
the rest of the personal data."""
import csv
import io
import json
import os
import re
import urllib.parse
import uuid

import psycopg2
import pytest

from conftest import ROOT, connect
from staffkit import ADMIN, admin, assert_error, email, staff_key  # noqa: F401
from test_pages import csrf_of, patron  # noqa: F401

QUESTIONS = [
    {"kind": "one_choice", "label": "Which branch are you from?",
     "help": "Pick the nearest.", "required": True,
     "choices": ["North", "South", "Online only"]},
    {"template": "accommodation"},
]


def with_questions(admin, make_event, **kw):
    slug = make_event(**kw)
    r = admin.put(f"/events/{slug}/questions", json_body={"questions": QUESTIONS})
    assert r.status == 200, r
    qs = r.json["questions"]
    assert [q["kind"] for q in qs] == ["one_choice", "long_text"]
    assert qs[1]["label"] == "Do you need an accommodation to attend?"
    return slug, qs[0]["id"], qs[1]["id"]


def register(api, slug, answers, addr=None):
    return api.post(f"/api/v1/events/{slug}/registrations", json_body={
        "name": "Ann Patron", "email": addr or email("q"), "answers": answers})


def purge_after_the_event(db, slug):
    """The event ended 60 days ago; the purge keeps 30."""
    db.all("UPDATE eventbox.events SET starts_at = now() - interval '60 days',"
           " ends_at = now() - interval '60 days' + interval '1 hour' WHERE slug = %s", slug)
    db.all("SELECT eventbox.purge(30)")


def assert_nothing_left(db, slug):
    assert db.value("SELECT count(*) FROM eventbox.answers a"
                    " JOIN eventbox.questions q ON q.id = a.question_id"
                    " JOIN eventbox.events e ON e.id = q.event_id WHERE e.slug = %s",
                    slug) == 0
    assert db.value("SELECT count(*) FROM eventbox.registrations r JOIN eventbox.events e"
                    " ON e.id = r.event_id WHERE e.slug = %s", slug) == 0


def test_the_event_shows_its_questions_and_answers_are_checked(api, admin, make_event):
    slug, branch, access = with_questions(admin, make_event)
    public = api.get(f"/api/v1/events/{slug}").json["questions"]
    assert [q["id"] for q in public] == [branch, access]
    assert public[0]["required"] is True and public[0]["help"] == "Pick the nearest."
    assert_error(api.register(slug, "Ann", email("q")), 422, "invalid_field",
                 f"answers.{branch}")
    assert_error(register(api, slug, {str(branch): "East"}), 422, "invalid_field",
                 f"answers.{branch}")
    assert_error(register(api, slug, {str(branch): "North", "999999": "x"}), 422,
                 "invalid_field", "answers.999999")
    assert_error(register(api, slug, ["North"]), 422, "invalid_field", "answers")
    assert_error(register(api, slug, {str(branch): "North", str(access): 7}), 422,
                 "invalid_field", f"answers.{access}")
    r = register(api, slug, {str(branch): "North", str(access): "Captions, please"})
    assert r.status == 201, r
    assert_error(admin.put(f"/events/{slug}/questions", json_body={"questions": []}),
                 409, "questions_answered")


def test_a_drafts_questions_and_ceiling_answer_404_as_for_no_event(
        api, db, admin, make_event):
    """A draft is hidden from the public (GET and a registration answer
    404), but a registration's answers were checked first, against any
    event: with answers, or without them on a draft that asks a required
    question, the public got 422 naming the draft's question ids (and
    which guessed choice fits), and by ids counted upwards found every
    draft.  The per-network ceiling, asked before too, answered a draft's
    429 and counted the network there."""
    slug, branch, access = with_questions(admin, make_event, status="draft",
                                          registrations_per_minute=1)
    ev = db.value("SELECT id FROM eventbox.events WHERE slug = %s", slug)
    addr = email("draft")
    nothing = api.register("no-such-event-at-all", "Ann", addr)
    assert_error(nothing, 404, "event_not_found")
    for target in (slug, str(ev)):
        for answers in (None, {"999999": "x"}, {str(branch): "East"},
                        {str(branch): "North", str(access): "Captions"}):
            for _ in range(2):          # twice: past the ceiling of 1
                r = api.post(f"/api/v1/events/{target}/registrations",
                             json_body={"name": "Ann", "email": addr,
                                        **({} if answers is None else
                                           {"answers": answers})})
                assert r.status == 404 and r.json == nothing.json, (target, answers, r)
    # register_from(), the ceiling's older way in, granted to the service too
    conn = psycopg2.connect(os.environ["EVENTBOX_DSN"])
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            for _ in range(2):
                cur.execute("SELECT outcome FROM eventbox.register_from("
                            "'203.0.113.5', %s, 'Ann', %s, NULL, 'web')", (slug, addr))
                assert cur.fetchone()[0] == "not_published"
    finally:
        conn.close()
    assert db.value("SELECT count(*) FROM eventbox.registrations"
                    " WHERE event_id = %s", ev) == 0
    assert db.value("SELECT count(*) FROM eventbox.network_counts"
                    " WHERE event_id = %s", ev) == 0


@pytest.mark.parametrize("spelling", ["00{}", "+{}", " {}", "{}.0", "0"])
def test_an_answer_keyed_by_another_spelling_of_an_id_is_refused(
        api, db, admin, make_event, spelling):
    """{"007": ...} named question 7 to the store but not to the checks,
    which look for "7": an object was stored as the answer to a question
    of choices.  Only the id as the API shows it is a key."""
    slug, branch, access = with_questions(admin, make_event)
    key = spelling.format(access)
    addr = email("spelling")
    r = register(api, slug, {str(branch): "North", key: {"not": "a text"}}, addr)
    assert_error(r, 422, "invalid_field", f"answers.{key}")
    assert db.value("SELECT count(*) FROM eventbox.registrations WHERE email = %s", addr) == 0
    assert db.value("SELECT count(*) FROM eventbox.answers a JOIN eventbox.questions q"
                    " ON q.id = a.question_id JOIN eventbox.events e ON e.id = q.event_id"
                    " WHERE e.slug = %s", slug) == 0


def test_answers_in_the_roster_and_the_csv_then_purged(api, db, admin, make_event):
    slug, branch, access = with_questions(admin, make_event)
    ann, bob = email("ann"), email("bob")
    assert register(api, slug, {str(branch): "South", str(access): "Step-free access"},
                    ann).status == 201
    assert register(api, slug, {str(branch): "Online only"}, bob).status == 201
    roster = admin.get(f"/events/{slug}/registrations").json["registrations"]
    by = {r["email"]: r["answers"] for r in roster}
    assert by[ann] == {"Which branch are you from?": "South",
                       "Do you need an accommodation to attend?": "Step-free access"}
    assert by[bob] == {"Which branch are you from?": "Online only"}
    text = admin.get(f"/events/{slug}/registrations.csv").text.lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][12] == "answers"
    cells = {r[2]: r[12] for r in rows[1:]}
    assert "Which branch are you from?: South" in cells[ann]
    assert "Do you need an accommodation to attend?: Step-free access" in cells[ann]
    # After the event and the retention period, nothing is left.
    purge_after_the_event(db, slug)
    assert_nothing_left(db, slug)


def test_a_long_answer_holds_2000_characters_a_line_break_counting_once(
        api, admin, make_event):
    slug, branch, access = with_questions(admin, make_event)
    assert_error(register(api, slug, {str(branch): "North", str(access): "y" * 2001}),
                 422, "invalid_field", f"answers.{access}")
    # 2,000 characters typed in a text area, sent with CRLF line breaks
    # (2,020 characters on the wire): accepted and kept.
    typed = ("x" * 99 + "\r\n") * 20
    r = register(api, slug, {str(branch): "North", str(access): typed})
    assert r.status == 201, r


@pytest.mark.parametrize("bad", ["\u0001", "Ramp\u001b[31m please", "bell\u0007", "\u007f",
                                 "Ramp \u202egnp.exe", "a\u2066b\u2069",
                                 "Ramp\u009b31m please", "next\u0085line", "a\ufffeb",
                                 "a\U0010ffff"])
def test_a_long_answer_takes_paragraphs_but_no_control_character(
        api, db, admin, make_event, patron, bad):
    """A BEL or an escape in a long answer went into the roster and the
    CSV as it came; line breaks and tabs are a text's own.  So did the C1
    controls (U+009B is the escape's one-character CSI to a terminal) and
    the noncharacters, which a name may not hold."""
    slug, branch, access = with_questions(admin, make_event)
    addr = email("q")
    r = register(api, slug, {str(branch): "North", str(access): bad}, addr)
    assert_error(r, 422, "invalid_field", f"answers.{access}")
    assert "control characters" in r.json["error"]["message"]
    assert db.value("SELECT count(*) FROM eventbox.registrations WHERE email = %s", addr) == 0
    # The form says so next to the question, in words.
    page = patron.register(slug, answers=[(f"q{branch}", "North"), (f"q{access}", bad)])
    assert page.status == 422, page
    assert "must be text without control characters" in page.text
    ok = register(api, slug, {str(branch): "North", str(access): "Ramp\tplease\r\nthanks"})
    assert ok.status == 201, ok


NOT_TEXT = "must be text without control characters"
ONE_LINE = "must be one line of at most 300 characters"


@pytest.mark.parametrize("bad, words", [
    ("Clerk \u202egnp.exe", NOT_TEXT), ("\u202aClerk", NOT_TEXT), ("Clerk\u2067", NOT_TEXT),
    ("Clerk\ufffe", NOT_TEXT), ("\ufdd0Clerk", NOT_TEXT),
    ("Clerk\u2028Bcc", ONE_LINE), ("Clerk\u2029", ONE_LINE)])
def test_a_short_answer_takes_no_direction_override(api, db, admin, make_event, patron, bad,
                                                    words):
    """A right-to-left override in an answer turned the rest of its roster
    line and CSV cell around, as a name's may not; the marks right-to-left
    scripts use (U+200F) stay.  Nor a noncharacter, as in a name; and one
    line takes no line or paragraph separator (U+2028, U+2029: a line
    break to many a reader), which a name may not hold either."""
    slug = make_event()
    r = admin.put(f"/events/{slug}/questions", json_body={"questions": [
        {"kind": "short_text", "label": "Job"}]})
    assert r.status == 200, r
    job = str(r.json["questions"][0]["id"])
    addr = email("q")
    r = register(api, slug, {job: bad}, addr)
    assert_error(r, 422, "invalid_field", f"answers.{job}")
    assert words in r.json["error"]["message"]
    assert db.value("SELECT count(*) FROM eventbox.registrations WHERE email = %s", addr) == 0
    page = patron.register(slug, answers=[(f"q{job}", bad)])
    assert page.status == 422, page
    assert words in page.text
    assert register(api, slug, {job: "\u05e1\u05e4\u05e8\u05df\u200f"}).status == 201


def test_an_idempotency_key_sent_again_with_other_answers_is_422(api, db, admin, make_event):
    """The answers are part of the request the key names: a retry with the
    same answers (written in any key order) is replayed; other answers under
    the same key are another request, refused, not dropped unseen."""
    slug, branch, access = with_questions(admin, make_event)
    addr, key = email("q"), str(uuid.uuid4())

    def send(answers):
        return api.post(f"/api/v1/events/{slug}/registrations",
                        headers={"Idempotency-Key": key},
                        json_body={"name": "Ann Patron", "email": addr, "answers": answers})

    first = send({str(branch): "North", str(access): "A ramp"})
    assert first.status == 201, first
    again = send({str(access): "A ramp", str(branch): "North"})
    assert (again.status, again.json) == (201, first.json), again
    assert_error(send({str(branch): "South", str(access): "A ramp"}), 422,
                 "idempotency_key_reused")
    assert answers_of(db, addr) == sorted([(branch, "North"), (access, "A ramp")])


def test_a_member_other_than_questions_is_refused_as_put_capacity_refuses_one(
        admin, make_event):
    """{"questions": [...], "tempalte": "accommodation"} set the questions
    and dropped the misspelt member without a word; PUT capacity and PATCH
    name such a member."""
    slug = make_event()
    for extra in ({"template": "accommodation"}, {"Questions": []}, {"x": 1}):
        r = admin.put(f"/events/{slug}/questions",
                      json_body={"questions": [{"kind": "yes_no", "label": "Photos?"}], **extra})
        name = next(iter(extra))
        assert_error(r, 422, "invalid_field", name)
        assert r.json["error"]["message"] == \
            f"{name}: is not a field of this call: send only questions", r
    assert admin.get(f"/events/{slug}/questions").json["questions"] == []
    r = admin.put(f"/events/{slug}/questions", json_body={"questions": []})
    assert r.status == 200, r


def test_bad_questions_are_refused_with_the_field(admin, make_event):
    slug = make_event()
    for bad, field in (
            ([{"kind": "essay", "label": "x"}], "questions[0]"),
            ([{"kind": "yes_no", "label": ""}], "questions[0]"),
            ([{"kind": "yes_no", "label": "ok"},
              {"kind": "one_choice", "label": "Pick", "choices": ["only one"]}],
             "questions[1]"),
            ([{"kind": "one_choice", "label": "Pick", "choices": ["North", "North"]}],
             "questions[0]"),
            ([{"kind": "several_choices", "label": "Pick", "choices": ["a\nb", "c"]}],
             "questions[0]"),
            ([{"kind": "short_text", "label": "Job", "choices": ["a"]}], "questions[0]"),
            ([{"kind": "yes_no", "label": "Photos?", "choices": ["yes", "no"]}],
             "questions[0]"),
            ([{"kind": "yes_no", "label": "Photos?", "help": "ring\x07"}], "questions[0]"),
            ([{"kind": "yes_no", "label": "Photos?"}, {"kind": "short_text", "label": "Job"},
              {"kind": "yes_no", "label": " photos? "}], "questions[2]")):
        assert_error(admin.put(f"/events/{slug}/questions", json_body={"questions": bad}),
                     422, "invalid_field", field)
    assert admin.get(f"/events/{slug}/questions").json["questions"] == []
    assert_error(admin.put(f"/events/{slug}/questions", json_body={"questions": "x"}),
                 422, "invalid_field", "questions")
    r = admin.put(f"/events/{slug}/questions", json_body={"questions": [
        {"kind": "yes_no", "label": "Coming with a child?", "required": True},
        {"kind": "short_text", "label": "Job", "choices": []},
        {"kind": "long_text", "label": "Anything else?", "choices": None}]})
    assert r.status == 200, r
    assert [q["choices"] for q in r.json["questions"]] == [[], [], []]
    qid = r.json["questions"][0]["id"]
    assert admin.get(f"/events/{slug}/questions").json["questions"][0]["id"] == qid


def test_blank_and_repeated_answers_answer_nothing(api, db, admin, make_event):
    """Spaces or line breaks alone answer a required question no more than
    "" does, and are not stored for an optional one; a choice given twice
    is not a list of the choices."""
    slug = make_event()
    r = admin.put(f"/events/{slug}/questions", json_body={"questions": [
        {"kind": "short_text", "label": "Job", "required": True},
        {"kind": "long_text", "label": "Anything else?"},
        {"kind": "several_choices", "label": "Days", "choices": ["Mon", "Tue"]}]})
    assert r.status == 200, r
    job, more, days = (str(q["id"]) for q in r.json["questions"])
    for blank in ("  ", "\t", " \r\n "):
        assert_error(register(api, slug, {job: blank}), 422, "invalid_field", f"answers.{job}")
    assert_error(register(api, slug, {job: "Clerk", days: ["Mon", "Mon"]}), 422,
                 "invalid_field", f"answers.{days}")
    addr = email("blank")
    r = register(api, slug, {job: "Clerk", more: " \r\n ", days: ["Tue", "Mon"]}, addr)
    assert r.status == 201, r
    assert db.all("SELECT q.label, a.value FROM eventbox.answers a"
                  " JOIN eventbox.questions q ON q.id = a.question_id"
                  " JOIN eventbox.registrations g ON g.id = a.registration_id"
                  " WHERE g.email = %s ORDER BY q.position", addr) == [
        ("Job", "Clerk"), ("Days", ["Tue", "Mon"])]


def test_two_questions_alike_written_at_psql_both_show_in_the_roster(
        api, db, admin, make_event):
    """set_questions() refuses two labels alike (above); rows written at psql
    may still have them, and then neither answer hides the other."""
    slug = make_event()
    ids = [i for (i,) in db.all(
        "INSERT INTO eventbox.questions (event_id, position, kind, label)"
        " SELECT id, p, 'yes_no', 'Same' FROM eventbox.events, generate_series(1, 2) p"
        " WHERE slug = %s RETURNING id", slug)]
    addr = email("same")
    r = register(api, slug, {str(ids[0]): True, str(ids[1]): False}, addr)
    assert r.status == 201, r
    by = {g["email"]: g["answers"]
          for g in admin.get(f"/events/{slug}/registrations").json["registrations"]}
    assert by[addr] == {"Same (1)": True, "Same (2)": False}
    text = admin.get(f"/events/{slug}/registrations.csv").text
    assert "Same (1): yes; Same (2): no" in text


def answers_of(db, addr):
    return db.all("SELECT a.question_id, a.value FROM eventbox.answers a"
                  " JOIN eventbox.registrations g ON g.id = a.registration_id"
                  " WHERE lower(g.email) = lower(%s) ORDER BY a.question_id", addr)


def test_a_repeated_address_writes_no_answers_into_the_registration_there(
        api, patron, db, admin, make_event):
    """Anybody may send somebody else's address: the repeat is answered as a
    new registration would be (nobody learns who is registered), the
    address is told by email, and the answers sent with it are not stored:
    they filled the registration's blank answers with whatever the sender
    wrote."""
    slug, branch, access = with_questions(admin, make_event)
    victim = email("victim")
    assert register(api, slug, {str(branch): "North"}, victim).status == 201
    sent = {str(branch): "South", str(access): "attacker text"}
    again, fresh = register(api, slug, sent, victim.upper()), register(api, slug, sent)
    assert again.status == 201 and (again.status, again.json) == (fresh.status, fresh.json)
    form = [(f"q{branch}", "South"), (f"q{access}", "form text")]
    again, fresh = (patron.register(slug, email=victim, answers=form),
                    patron.register(slug, answers=form))
    assert again.status == fresh.status == 200 and "You are registered" in again.text, again
    assert again.text == fresh.text
    assert answers_of(db, victim) == [(branch, "North")]
    assert db.value("SELECT count(*) FROM eventbox.outbox o"
                    " JOIN eventbox.registrations g ON g.id = o.registration_id"
                    " WHERE g.email = %s AND o.kind = 'already_registered'", victim) == 1


def test_questions_sent_again_keep_their_ids(db, admin, make_event):
    """Forms open in patrons' browsers name their fields by the questions'
    ids, and websites keep them to send answers: a list sent again keeps
    the id of every question still there, named by its id, or else by its
    kind and label."""
    slug, branch, access = with_questions(admin, make_event)
    path = f"/events/{slug}/questions"
    r = admin.put(path, json_body={"questions": QUESTIONS})
    assert r.status == 200, r
    assert [q["id"] for q in r.json["questions"]] == [branch, access]
    # By id: two questions change places, one its label and choices; one is new.
    r = admin.put(path, json_body={"questions": [
        {"template": "accommodation", "id": access},
        {"id": branch, "kind": "one_choice", "label": "Your branch",
         "choices": ["North", "South"]},
        {"kind": "yes_no", "label": "May we take photos?"}]})
    assert r.status == 200, r
    qs = r.json["questions"]
    photos = qs[2]["id"]
    assert [q["id"] for q in qs[:2]] == [access, branch] and photos not in (branch, access)
    assert (qs[1]["label"], qs[1]["choices"]) == ("Your branch", ["North", "South"])
    # By kind and label, letter case aside; another kind is another
    # question, and the questions left out are gone.
    r = admin.put(path, json_body={"questions": [
        {"kind": "short_text", "label": "Your branch"},
        {"kind": "yes_no", "label": "MAY WE TAKE PHOTOS?"}]})
    assert r.status == 200, r
    qs = r.json["questions"]
    assert qs[1]["id"] == photos and qs[0]["id"] not in (branch, access, photos)
    assert db.all("SELECT q.id FROM eventbox.questions q JOIN eventbox.events e"
                  " ON e.id = q.event_id WHERE e.slug = %s ORDER BY q.position",
                  slug) == [(qs[0]["id"],), (photos,)]
    assert db.value("SELECT questions = eventbox.questions_list(id) FROM eventbox.events"
                    " WHERE slug = %s", slug) is True
    # An id is one of this event's questions, given once.
    other, other_branch, _ = with_questions(admin, make_event)
    yes_no = {"kind": "yes_no", "label": "Lunch?"}
    for bad, field in (([dict(yes_no, id=other_branch)], "questions[0]"),
                       ([dict(yes_no, id=str(photos))], "questions[0]"),
                       ([dict(yes_no, id=photos), {"kind": "yes_no", "label": "Coffee?",
                                                   "id": photos}], "questions[1]")):
        assert_error(admin.put(path, json_body={"questions": bad}), 422, "invalid_field",
                     field)
    assert [q["id"] for q in admin.get(path).json["questions"]] == [qs[0]["id"], photos]


def test_a_form_opened_before_the_questions_changed_still_registers(
        patron, admin, make_event):
    """Its fields are named by the questions' ids (q<id>): they were all
    new after any change, and the form "arrived damaged"."""
    slug, branch, access = with_questions(admin, make_event)
    page = patron.get(f"/events/{slug}")
    assert page.status == 200, page
    changed = [dict(QUESTIONS[0], help="The one you visit most."), QUESTIONS[1]]
    assert admin.put(f"/events/{slug}/questions",
                     json_body={"questions": changed}).status == 200
    r = patron.post(f"/events/{slug}/register", [
        ("csrf", csrf_of(page)), ("name", "Ann Reader"), ("email", email("open")),
        ("organization", ""), ("website", ""), (f"q{branch}", "North"), (f"q{access}", "")])
    assert r.status == 200 and "You are registered" in r.text, r


def test_the_roster_and_the_csv_give_the_answers_in_the_questions_order(
        api, admin, make_event):
    """jsonb keeps an object's keys shortest first: "Job" came before the
    question the form asks first."""
    slug = make_event()
    r = admin.put(f"/events/{slug}/questions", json_body={"questions": [
        {"kind": "one_choice", "label": "Which branch are you from?",
         "choices": ["North", "South"]},
        {"kind": "short_text", "label": "Job"},
        {"kind": "yes_no", "label": "Lunch?"}]})
    assert r.status == 200, r
    branch, job, lunch = (str(q["id"]) for q in r.json["questions"])
    addr = email("order")
    assert register(api, slug, {lunch: True, job: "Clerk", branch: "North"},
                    addr).status == 201
    assert [list(a) for a in roster_answers(admin, slug)] == [
        ["Which branch are you from?", "Job", "Lunch?"]]
    text = admin.get(f"/events/{slug}/registrations.csv").text.lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[1][rows[0].index("answers")] == "Which branch are you from?: North; Job: Clerk; Lunch?: yes"


# --- the questions on the public form ----------------------------------------

ALL_KINDS = [
    {"kind": "short_text", "label": "Your job title", "required": True},
    {"kind": "long_text", "label": "What do you hope to learn?",
     "help": "A sentence or two helps the presenter prepare."},
    {"kind": "one_choice", "label": "Which branch are you from?", "required": True,
     "choices": ["North", "South", "Online only"]},
    {"kind": "several_choices", "label": "Which topics interest you?",
     "choices": ["Catalogs", "E-books", "Outreach"]},
    {"kind": "yes_no", "label": "May we photograph you?", "required": True},
]


def with_all_kinds(admin, make_event):
    slug = make_event()
    r = admin.put(f"/events/{slug}/questions", json_body={"questions": ALL_KINDS})
    assert r.status == 200, r
    return slug, [q["id"] for q in r.json["questions"]]


def tag(text, pattern):
    m = re.search(pattern, text)
    assert m, pattern
    return m.group(0)


def roster_answers(admin, slug):
    return [r["answers"] for r in
            admin.get(f"/events/{slug}/registrations").json["registrations"]]


def test_the_form_shows_each_question_with_its_control(patron, admin, make_event):
    slug, (job, hope, branch, topics, photo) = with_all_kinds(admin, make_event)
    page = patron.get(f"/events/{slug}").text
    start = page.index('<form class="register"')
    form = page[start:page.index("</form>", start)]
    assert f'<label for="q{job}">Your job title</label>' in form
    assert "required" in tag(form, rf'<input type="text" id="q{job}"[^>]*>')
    t = tag(form, rf'<textarea id="q{hope}"[^>]*>')
    assert f'name="q{hope}"' in t and f'aria-describedby="q{hope}-hint"' in t
    assert "required" not in t
    assert f'<label for="q{hope}">What do you hope to learn? (optional)</label>' in form
    assert f'<p class="hint" id="q{hope}-hint">A sentence or two' in form
    # One choice: radios sharing a name in a fieldset whose legend is the
    # question; the group is required (a radio marked required is read as
    # invalid while none is checked).
    group = tag(form, r'<fieldset class="field question" role="radiogroup" '
                      r'aria-required="true">\n<legend>Which branch[^<]*</legend>'
                      r'(.|\n)*?</fieldset>')
    radios = re.findall(rf'<input type="radio" id="q{branch}-\d" name="q{branch}" '
                        r'value="([^"]*)">', group)
    assert radios == ["North", "South", "Online only"]
    group = tag(form, r'<fieldset class="field question">\n<legend>Which topics '
                      r'interest you\? \(optional\)</legend>(.|\n)*?</fieldset>')
    boxes = re.findall(r'<input type="checkbox" id="(q\d+-\d)" name="(q\d+-\d)" '
                       r'value="([^"]*)">', group)
    assert boxes == [(f"q{topics}-{i}", f"q{topics}-{i}", c)
                     for i, c in enumerate(["Catalogs", "E-books", "Outreach"])]
    group = tag(form, r'<fieldset class="field question" role="radiogroup" '
                      r'aria-required="true">\n<legend>May we photograph you\?'
                      r'</legend>(.|\n)*?</fieldset>')
    assert re.findall(rf'name="q{photo}" value="(yes|no)">\n<label '
                      rf'for="q{photo}-\d">(Yes|No)<', group) == [("yes", "Yes"),
                                                                  ("no", "No")]


def test_a_wrong_form_comes_back_with_the_answers_kept_and_each_error_by_its_question(
        patron, db, admin, make_event):
    slug, (job, hope, branch, topics, photo) = with_all_kinds(admin, make_event)
    r = patron.register(slug, name="", answers=[
        (f"q{job}", "Cataloguer <b>"), (f"q{hope}", "Line one\r\nLine two"),
        (f"q{topics}-0", "Catalogs"), (f"q{topics}-2", "Outreach")])
    assert r.status == 422, r
    start = r.text.index('id="error-summary"')
    summary = r.text[start:r.text.index("</ul>", start)]
    assert '<a href="#name">Enter your name</a>' in summary
    assert (f'<a href="#q{branch}-0">Choose an answer for '
            '&quot;Which branch are you from?&quot;</a>') in summary
    assert f'<a href="#q{photo}-0">Choose an answer for ' in summary
    assert f"#q{job}" not in summary and f"#q{topics}" not in summary
    group = tag(r.text, r'<fieldset class="field question invalid" role="radiogroup" '
                        rf'aria-required="true" aria-describedby="q{branch}-error" '
                        r'aria-invalid="true">(.|\n)*?</fieldset>')
    assert f'<p class="error" id="q{branch}-error">' in group
    # What the patron typed and ticked is still there.
    assert 'value="Cataloguer &lt;b&gt;"' in tag(r.text, rf'<input type="text" id="q{job}"[^>]*>')
    assert tag(r.text, rf'<textarea id="q{hope}"[^>]*>[^<]*</textarea>').endswith(
        ">Line one\r\nLine two</textarea>")
    assert 'value="Catalogs" checked>' in r.text and 'value="Outreach" checked>' in r.text
    assert 'value="E-books">' in r.text
    assert db.value("SELECT count(*) FROM eventbox.registrations r JOIN eventbox.events e"
                    " ON e.id = r.event_id WHERE e.slug = %s", slug) == 0
    # The answers alone wrong, the name right: the database's check speaks.
    r = patron.register(slug, answers=[(f"q{job}", "Cataloguer"),
                                       (f"q{branch}", "East"), (f"q{photo}", "maybe")])
    assert r.status == 422, r
    assert ("Your answer to &quot;Which branch are you from?&quot; must be one of "
            "the choices") in r.text
    assert "Your answer to &quot;May we photograph you?&quot; must be true or false" in r.text


def test_the_form_registers_with_every_kind_of_answer(patron, admin, make_event):
    slug, (job, hope, branch, topics, photo) = with_all_kinds(admin, make_event)
    r = patron.register(slug, answers=[
        (f"q{job}", "Cataloguer"), (f"q{hope}", ""), (f"q{branch}", "Online only"),
        (f"q{topics}-1", "E-books"), (f"q{topics}-2", "Outreach"), (f"q{photo}", "no")])
    assert r.status == 200 and "You are registered" in r.text, r
    assert roster_answers(admin, slug) == [{
        "Your job title": "Cataloguer", "Which branch are you from?": "Online only",
        "Which topics interest you?": ["E-books", "Outreach"],
        "May we photograph you?": False}]


def test_a_form_field_no_question_asks_for_is_refused(patron, admin, make_event):
    slug, ids = with_all_kinds(admin, make_event)
    r = patron.register(slug, answers=[("q999999999", "x")])
    assert r.status == 400, r
    r = patron.register(slug, answers=[(f"q{ids[3]}-7", "Catalogs")])
    assert r.status == 400, r


def test_two_questions_through_the_form_and_the_api_in_the_csv_then_purged(
        api, patron, db, admin, make_event):
    """The issue's check: an event with two questions, registered through
    the form and the API, the answers read in the CSV, purged, nothing
    left."""
    slug, branch, access = with_questions(admin, make_event)
    web, json_ = email("form"), email("api")
    r = patron.register(slug, email=web, answers=[
        (f"q{branch}", "North"), (f"q{access}", "Captions, please")])
    assert r.status == 200 and "You are registered" in r.text, r
    assert register(api, slug, {str(branch): "South", str(access): "Large print"},
                    json_).status == 201
    text = admin.get(f"/events/{slug}/registrations.csv").text.lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(text)))
    cells = {r[2]: r[rows[0].index("answers")] for r in rows[1:]}
    assert cells == {
        web: "Which branch are you from?: North; "
             "Do you need an accommodation to attend?: Captions, please",
        json_: "Which branch are you from?: South; "
               "Do you need an accommodation to attend?: Large print"}
    purge_after_the_event(db, slug)
    text = admin.get(f"/events/{slug}/registrations.csv").text.lstrip("\ufeff")
    assert len(list(csv.reader(io.StringIO(text)))) == 1, text
    for needle in ("Captions, please", "Large print", web, json_):
        assert needle not in text
    assert_nothing_left(db, slug)
    assert db.value("SELECT count(*) FROM eventbox.outbox WHERE email IN (%s, %s)",
                    web, json_) == 0


def test_the_events_copy_of_its_questions_follows_every_change(api, db, admin,
                                                               make_event):
    """Reads take the questions from the event's row (021_event_questions.sql);
    every change to the questions table, staff SQL included, rewrites it, and
    nothing else may."""
    slug, branch, access = with_questions(admin, make_event)
    db.all("UPDATE eventbox.questions SET label = 'Which library?' WHERE id = %s", branch)
    db.all("DELETE FROM eventbox.questions WHERE id = %s", access)
    db.all("INSERT INTO eventbox.questions (event_id, position, kind, label)"
           " SELECT id, 3, 'yes_no', 'May we take photos?' FROM eventbox.events"
           " WHERE slug = %s", slug)
    public = api.get(f"/api/v1/events/{slug}").json["questions"]
    assert [(q["label"], q["kind"]) for q in public] == [
        ("Which library?", "one_choice"), ("May we take photos?", "yes_no")]
    assert db.value("SELECT questions = eventbox.questions_list(id) FROM eventbox.events"
                    " WHERE slug = %s", slug) is True
    with pytest.raises(psycopg2.errors.InsufficientPrivilege):
        db.all("UPDATE eventbox.events SET questions = '[]' WHERE slug = %s", slug)
    r = admin.put(f"/events/{slug}/questions", json_body={"questions": []})
    assert r.status == 200, r
    assert api.get(f"/api/v1/events/{slug}").json["questions"] == []


def test_a_question_that_is_not_a_choice_holds_no_choices_even_from_psql(db, make_event):
    """The table refuses what set_questions() refuses (022_question_choices.sql),
    and the migration empties the choices that the old constraint let a
    short_text question keep, in the table and in the event's copy."""
    slug = make_event()
    for kind, choices in (("short_text", ["North"]), ("yes_no", ["Yes", "No"]),
                          ("one_choice", ["North"]), ("several_choices", [])):
        with pytest.raises(psycopg2.errors.CheckViolation) as e:
            db.all("INSERT INTO eventbox.questions (event_id, position, kind, label, choices)"
                   " SELECT id, 1, %s, 'Where?', %s FROM eventbox.events WHERE slug = %s",
                   kind, choices, slug)
        assert e.value.diag.constraint_name == "questions_choices_with_choice_kinds", kind

    conn = connect()
    conn.autocommit = False
    try:
        with conn.cursor() as cur:
            cur.execute("ALTER TABLE eventbox.questions"
                        " DROP CONSTRAINT questions_choices_with_choice_kinds,"
                        " ADD CONSTRAINT questions_choices_with_choice_kinds"
                        " CHECK ((kind IN ('one_choice', 'several_choices'))"
                        " = (cardinality(choices) >= 2))")      # as 014 made it
            cur.execute("INSERT INTO eventbox.questions (event_id, position, kind, label, choices)"
                        " SELECT id, p, k, 'Where?', c FROM eventbox.events,"
                        " (VALUES (1, 'short_text', '{North}'::text[]),"
                        "         (2, 'one_choice', '{North,South}')) v (p, k, c)"
                        " WHERE slug = %s", (slug,))
            cur.execute("SELECT questions -> 0 -> 'choices' FROM eventbox.events"
                        " WHERE slug = %s", (slug,))
            assert cur.fetchone()[0] == ["North"]       # what 022 finds
            with open(os.path.join(ROOT, "sql", "022_question_choices.sql")) as f:
                cur.execute(f.read())
            cur.execute("SELECT kind, choices FROM eventbox.questions q"
                        " JOIN eventbox.events e ON e.id = q.event_id"
                        " WHERE e.slug = %s ORDER BY position", (slug,))
            assert cur.fetchall() == [("short_text", []), ("one_choice", ["North", "South"])]
            cur.execute("SELECT questions = eventbox.questions_list(id),"
                        " jsonb_path_query_array(questions, '$[*].choices')"
                        " FROM eventbox.events WHERE slug = %s", (slug,))
            assert cur.fetchone() == (True, [[], ["North", "South"]])
            cur.execute("SELECT pg_get_constraintdef(oid) FROM pg_constraint"
                        " WHERE conname = 'questions_choices_with_choice_kinds'")
            assert "cardinality(choices) = 0" in cur.fetchone()[0]
    finally:
        conn.rollback()
        conn.close()


def test_long_answers_to_many_questions_are_taken_as_the_form_takes_them(
        api, db, admin, make_event):
    """Three answers of 2,000 characters each (12 KB as UTF-8) fit the body's
    limit and each question's; the API copied answers into 8 KB and called
    them "not an object"."""
    slug = make_event()
    r = admin.put(f"/events/{slug}/questions", json_body={"questions": [
        {"kind": "long_text", "label": f"Part {i}"} for i in range(3)]})
    assert r.status == 200, r
    ids = [str(q["id"]) for q in r.json["questions"]]
    addr = email("long")
    body = json.dumps({"name": "Ann Patron", "email": addr,
                       "answers": {i: "é" * 2000 for i in ids}}, ensure_ascii=False)
    assert 12000 < len(body.encode()) < 16384
    r = api.post(f"/api/v1/events/{slug}/registrations", body=body.encode(),
                 headers={"Content-Type": "application/json"})
    assert r.status == 201, r
    assert db.all("SELECT length(a.value #>> '{}') FROM eventbox.answers a"
                  " JOIN eventbox.registrations g ON g.id = a.registration_id"
                  " WHERE g.email = %s", addr) == [(2000,)] * 3


def test_long_answers_in_chinese_fit_the_form_as_they_fit_the_api(
        patron, admin, db, make_event):
    """Two answers of 2,000 Chinese characters are 12 KB as JSON, within the
    API's 16 KB, but 36 KB as the browser sends the form (each of a
    character's three bytes as "%XX"): the patron got nginx's 413 page for
    what the API takes."""
    slug = make_event()
    r = admin.put(f"/events/{slug}/questions", json_body={"questions": [
        {"kind": "long_text", "label": f"Part {i}"} for i in range(2)]})
    assert r.status == 200, r
    ids = [q["id"] for q in r.json["questions"]]
    addr = email("chinese")
    answers = [(f"q{i}", "\u6f22" * 2000) for i in ids]
    assert 12000 < len(json.dumps({"answers": dict(answers)}, ensure_ascii=False)
                       .encode()) < 16384
    assert len(urllib.parse.urlencode(answers)) > 16384 * 2
    r = patron.register(slug, name="Ann Reader", email=addr, answers=answers)
    assert r.status == 200 and "You are registered" in r.text, r
    assert db.all("SELECT length(a.value #>> '{}') FROM eventbox.answers a"
                  " JOIN eventbox.registrations g ON g.id = a.registration_id"
                  " WHERE g.email = %s", addr) == [(2000,)] * 2


def test_a_key_that_is_no_question_is_named_whole(api, make_event):
    """The 422 names the key as sent (its first 40 characters), whole
    characters only: it was cut at 47 bytes, inside a character."""
    slug = make_event()
    for key in ("k" * 40, "é" * 40, "🎟" * 45):
        r = register(api, slug, {key: 1})
        assert_error(r, 422, "invalid_field", "answers." + key[:40])
