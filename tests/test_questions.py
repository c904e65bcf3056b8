"""Questions per event: staff add them (admin API, SQL), patrons answer
them through the JSON API, the answers are checked like every other field,
staff read them in the roster and its CSV, and the purge erases them with
the rest of the personal data."""
import csv
import io

from staffkit import ADMIN, admin, assert_error, email, staff_key  # noqa: F401

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
    assert rows[0][-1] == "answers"
    cells = {r[2]: r[-1] for r in rows[1:]}
    assert "Which branch are you from?: South" in cells[ann]
    assert "Do you need an accommodation to attend?: Step-free access" in cells[ann]
    # After the event and the retention period, nothing is left.
    db.all("UPDATE eventbox.events SET starts_at = now() - interval '60 days',"
           " ends_at = now() - interval '60 days' + interval '1 hour' WHERE slug = %s", slug)
    db.all("SELECT eventbox.purge(30)")
    assert db.value("SELECT count(*) FROM eventbox.answers a"
                    " JOIN eventbox.questions q ON q.id = a.question_id"
                    " JOIN eventbox.events e ON e.id = q.event_id WHERE e.slug = %s",
                    slug) == 0
    assert db.value("SELECT count(*) FROM eventbox.registrations r JOIN eventbox.events e"
                    " ON e.id = r.event_id WHERE e.slug = %s", slug) == 0


def test_bad_questions_are_refused_with_the_field(admin, make_event):
    slug = make_event()
    for bad, field in (
            ([{"kind": "essay", "label": "x"}], "questions[0]"),
            ([{"kind": "yes_no", "label": ""}], "questions[0]"),
            ([{"kind": "yes_no", "label": "ok"},
              {"kind": "one_choice", "label": "Pick", "choices": ["only one"]}],
             "questions[1]")):
        assert_error(admin.put(f"/events/{slug}/questions", json_body={"questions": bad}),
                     422, "invalid_field", field)
    assert admin.get(f"/events/{slug}/questions").json["questions"] == []
    assert_error(admin.put(f"/events/{slug}/questions", json_body={"questions": "x"}),
                 422, "invalid_field", "questions")
    r = admin.put(f"/events/{slug}/questions", json_body={"questions": [
        {"kind": "yes_no", "label": "Coming with a child?", "required": True}]})
    assert r.status == 200
    qid = r.json["questions"][0]["id"]
    assert admin.get(f"/events/{slug}/questions").json["questions"][0]["id"] == qid
