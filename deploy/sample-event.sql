-- deploy/sample-event.sql: sample events for a development stack.
--
-- Loaded by deploy/devstack.sh as the database owner after migrating
-- (psql -v ON_ERROR_STOP=1 -f deploy/sample-event.sql).  Safe to run again:
-- an event that already exists is left alone unless it is over, in which
-- case it is moved to its next future date, so the list page never goes
-- empty on a long-lived var/ directory.
--
-- Dates are computed here, not written down: each event falls on a fixed
-- weekday at a fixed local wall-clock time, at least N days from now, in its
-- own time zone (timestamp AT TIME ZONE zone gives the timestamptz, DST
-- included).
--
-- The first event is the consortium's "event box" page for an ALA webinar,
-- as published (the seed of this project); the other two are invented so the
-- list shows each format.

BEGIN;

-- 1. The ALA webinar: online, 100 seats, waiting list; 2:00pm-3:00pm
--    Eastern on the first Wednesday at least 14 days from now.
--    The online URL is a placeholder: it is only ever sent to confirmed
--    registrants, never shown publicly.
INSERT INTO eventbox.events AS e
    (slug, title, description, presenter, format, location, online_url,
     categories, organizer, accessibility_contact, starts_at, ends_at,
     timezone, capacity, waitlist_enabled, status, learning_outcomes, audience)
SELECT
    'minimizing-social-media',
    'Minimizing Social Media to Maximize Library Values (ALA Webinar)',
    $description$The Massachusetts Library System is pleased to announce that we have contracted with ALA to provide our members with access to their live webinars. These webinars are free to MLS members who register through our calendar. Please do not register directly with ALA. Members who register directly with ALA are responsible for paying their registration fee.

Please help us keep MLS sponsored training free for all members. If you are unable to attend the live webinar, please cancel your registration. A cancellation link can be found in your confirmation email, or you may contact Sarah Donnelly at sdonnelly@masslibsystem.org to cancel.

While social media is an unavoidable reality of today's digital landscape, it has inherent conflicts with some of the core values of librarianship—including intellectual freedom and privacy. Indeed, many of the most important aspects of librarianship and public service are at odds with the defining characteristics of social media.

Is it worth reconsidering how we use this tool and examining its real and practical value for libraries, rather than the value attributed to it by Big Tech? Do we put our profession in an ethically compromised place by encouraging patrons to use social media platforms when we can communicate in other ways?

In this webinar, learn how a medium-sized public library in Montana minimized its social media use while still engaging with its community.$description$,
    $presenter$Mark Wetherington (he/him) is the director of the Bitterroot Public Library in Hamilton, Montana, and an avid backpacker and outdoor enthusiast. He is a co-author of Backpacking Washington published by Wilderness Press and is a regular contributor to Trails Magazine. Mark began working in libraries in 2006 and received his MLIS from the University of Kentucky in 2012.$presenter$,
    'online',
    '',
    'https://ala.example.org/webinar/join/sample',
    ARRAY['Vendor Webinar - ALA'],
    'Learning Services',
    'ce@ala.org or 312-280-5100',
    (d.day + time '14:00') AT TIME ZONE 'America/New_York',
    (d.day + time '15:00') AT TIME ZONE 'America/New_York',
    'America/New_York',
    100,
    true,
    'published',
    -- "At the conclusion of this webinar, participants will be able to:"
    ARRAY['Recognize that social media and libraries have inherent conflicts in their values, including intellectual freedom and privacy, that are worth thinking deeply about;',
          'Understand that minimizing social media use by your library can save time, reduce the tension that comes with constantly managing a social media page, and redirect your marketing efforts to ways that might feel more authentic for your library and community; and',
          'Feel empowered to think outside the box and hopefully reconnect with some of the most important values of librarianship and better communicate them to other librarians as well as the public.'],
    'This webinar is intended for public library staff involved in marketing and/or social media management, as well as library directors.'
FROM (
    -- isodow: Monday = 1 ... Wednesday = 3 ... Sunday = 7.
    SELECT d0 + (3 - extract(isodow FROM d0)::int + 7) % 7 AS day
    FROM (SELECT (now() AT TIME ZONE 'America/New_York')::date + 14 AS d0) AS t
) AS d
-- Loaded before who should attend and what participants will learn had
-- fields of their own (sql/017_audience.sql), the event had them in its
-- description: it takes the new text once.
ON CONFLICT (slug) DO UPDATE
    SET starts_at = CASE WHEN e.ends_at < now() THEN EXCLUDED.starts_at ELSE e.starts_at END,
        ends_at = CASE WHEN e.ends_at < now() THEN EXCLUDED.ends_at ELSE e.ends_at END,
        description = CASE WHEN e.audience = '' THEN EXCLUDED.description
                           ELSE e.description END,
        learning_outcomes = CASE WHEN e.audience = '' THEN EXCLUDED.learning_outcomes
                                 ELSE e.learning_outcomes END,
        audience = CASE WHEN e.audience = '' THEN EXCLUDED.audience ELSE e.audience END
    WHERE e.ends_at < now() OR e.audience = '';

-- 2. An in-person workshop: 20 seats, no waiting list; 10:00am-12:00pm
--    Eastern on the first Tuesday at least 21 days from now.
INSERT INTO eventbox.events AS e
    (slug, title, description, presenter, format, location, online_url,
     categories, organizer, accessibility_contact, starts_at, ends_at,
     timezone, capacity, waitlist_enabled, status)
SELECT
    'patron-privacy-audit-workshop',
    'Patron Privacy Audit: A Hands-On Workshop',
    $description$Bring your library's registration forms, vendor contracts and retention schedule: in this hands-on morning we walk through a privacy audit together and leave with a short list of changes you can make next week.

What we will cover

- Which patron data your library collects, where it lives and who can see it;
- How long you keep it, and how to write a retention schedule that people actually follow;
- Questions to ask vendors before you sign.

Seating is limited to 20 so that everyone gets help with their own documents. There is no waiting list for this session; please cancel if you cannot come so a colleague can take your seat.$description$,
    $presenter$Staff of the Learning Services team.$presenter$,
    'in_person',
    'Community Room, Example Public Library, 12 Main Street, Springfield, MA 01103',
    NULL,
    ARRAY['Workshop', 'Privacy'],
    'Learning Services',
    'learning@example.org',
    (d.day + time '10:00') AT TIME ZONE 'America/New_York',
    (d.day + time '12:00') AT TIME ZONE 'America/New_York',
    'America/New_York',
    20,
    false,
    'published'
FROM (
    SELECT d0 + (2 - extract(isodow FROM d0)::int + 7) % 7 AS day
    FROM (SELECT (now() AT TIME ZONE 'America/New_York')::date + 21 AS d0) AS t
) AS d
ON CONFLICT (slug) DO UPDATE
    SET starts_at = EXCLUDED.starts_at, ends_at = EXCLUDED.ends_at
    WHERE e.ends_at < now();

-- 3. A hybrid session: 40 seats (room and online together), waiting list;
--    6:30pm-7:30pm Eastern on the first Thursday at least 28 days from now.
INSERT INTO eventbox.events AS e
    (slug, title, description, presenter, format, location, online_url,
     categories, organizer, accessibility_contact, starts_at, ends_at,
     timezone, capacity, waitlist_enabled, status)
SELECT
    'newsletters-without-big-tech',
    'Reaching Your Community Without Big Tech: Library Newsletters That Work',
    $description$Email newsletters reach patrons without an algorithm in between and without handing their attention to an advertising company. Join us in the room or online for a practical session on starting, writing and measuring a library newsletter, with examples from member libraries.

Join us at the library or from your desk: the link for online participants is sent in the confirmation email.$description$,
    $presenter$A panel of communications staff from member libraries.$presenter$,
    'hybrid',
    'Meeting Room B, Example Public Library, 12 Main Street, Springfield, MA 01103',
    'https://meet.example.org/newsletters-sample',
    ARRAY['Marketing', 'Hybrid Event'],
    'Learning Services',
    'learning@example.org',
    (d.day + time '18:30') AT TIME ZONE 'America/New_York',
    (d.day + time '19:30') AT TIME ZONE 'America/New_York',
    'America/New_York',
    40,
    true,
    'published'
FROM (
    SELECT d0 + (4 - extract(isodow FROM d0)::int + 7) % 7 AS day
    FROM (SELECT (now() AT TIME ZONE 'America/New_York')::date + 28 AS d0) AS t
) AS d
ON CONFLICT (slug) DO UPDATE
    SET starts_at = EXCLUDED.starts_at, ends_at = EXCLUDED.ends_at
    WHERE e.ends_at < now();

COMMIT;
