-- rules/30_views.sql: every view, public and for staff.
--
-- CREATE OR REPLACE keeps a view's grants and its dependants; a change that
-- renames, retypes or drops a column needs a DROP here first (and a change
-- to the views' description in docs/OPS.md, "Functions": staff scripts read
-- these by column name).  Seat figures
-- come from 10_seats.sql's helpers, inlined by the planner.

-- What anybody may see of an event: never the online URL, never drafts.
-- Seats held for an address that has not confirmed yet count as free
-- (public_seats, 15_holds.sql): registering somebody else's address moves
-- no public figure, but for the last one: when a registration would now be
-- refused as full, seats_available is 0.  confirmation_required: the event
-- confirms by email (needs_confirmation), so the page can say that a seat
-- shown free may be held and what the confirmation will tell.
CREATE OR REPLACE VIEW eventbox.public_events AS
SELECT e.id, e.slug, e.title, e.description, e.presenter, e.format, e.location,
       e.categories, e.organizer, e.accessibility_contact, e.starts_at, e.ends_at,
       e.timezone, e.capacity, e.status, e.waitlist_enabled,
       e.registration_opens_at,
       eventbox.closes_at(e) AS registration_closes_at,
       eventbox.public_seats(e) AS seats_available,
       eventbox.waitlist_open(e) AS waitlist_available,
       eventbox.registration_state(e) AS registration_state,
       e.image_path, e.image_alt, e.image_decorative, e.updated_at, e.members_only,
       e.ical_sequence, e.audience, e.learning_outcomes,
       e.questions, eventbox.needs_confirmation(e) AS confirmation_required,
       e.language
  FROM eventbox.events e
 WHERE e.status <> 'draft';

-- LibCal-compatible reads: what anybody may see of published and cancelled
-- events, with the waiting list's length (never the online URL).
CREATE OR REPLACE VIEW eventbox.libcal_events AS
SELECT e.id, e.slug, e.title, e.description, e.presenter, e.format, e.location,
       e.categories, e.organizer, e.starts_at, e.ends_at, e.timezone, e.capacity,
       e.status, e.members_only,
       e.capacity - eventbox.public_seats(e) AS seats_taken,
       eventbox.public_waiting(e) AS wait_list,
       (e.registration_opens_at IS NULL OR now() >= e.registration_opens_at)
           AS has_registration_opened,
       (e.status = 'cancelled' OR now() >= eventbox.closes_at(e))
           AS has_registration_closed,
       e.image_path, e.audience
  FROM eventbox.events e
 WHERE e.status <> 'draft';

------------------------------------------------------------------------------
-- For staff (eventbox_ops).

CREATE OR REPLACE VIEW eventbox.event_summary AS
SELECT e.id, e.slug, e.title, e.status, e.starts_at, e.ends_at, e.timezone, e.capacity,
       e.confirmed_count AS confirmed,
       e.waitlisted_count AS waitlisted,
       e.cancelled_count AS cancelled,
       eventbox.free_seats(e) AS seats_available,
       e.waitlist_enabled, e.waitlist_capacity,
       -- Of confirmed and waitlisted: held until their address confirms.
       e.held_confirmed_count AS held_seats,
       e.held_waitlisted_count AS held_waiting,
       (SELECT count(*)::integer FROM eventbox.registrations x
         WHERE x.event_id = e.id AND x.hold_expired_at IS NOT NULL) AS expired,
       eventbox.needs_confirmation(e) AS confirmation_required
  FROM eventbox.events e;

CREATE OR REPLACE VIEW eventbox.roster AS
SELECT e.slug, r.id AS registration_id, r.name, r.email, r.organization, r.status,
       CASE WHEN r.status = 'waitlisted' THEN
           row_number() OVER (PARTITION BY e.slug, r.status ORDER BY r.id)::integer
       END AS "position",
       r.registered_at, r.confirmed_at, r.promoted_at, r.cancelled_at, r.attended_at,
       r.source,
       eventbox.hold_state(r) AS hold, r.held_until, r.address_confirmed_at,
       r.hold_expired_at
  FROM eventbox.registrations r
  JOIN eventbox.events e ON e.id = r.event_id;

-- The roster of one event with member libraries, waiting list in order.
-- The service reads it with a key through admin_roster(); ops read the view.
CREATE OR REPLACE VIEW eventbox.staff_roster AS
SELECT r.event_id, e.slug, r.id AS registration_id, r.name, r.email,
       coalesce(o.name, r.organization) AS library, o.id IS NOT NULL AS is_member,
       r.status,
       CASE WHEN r.status = 'waitlisted' THEN
           row_number() OVER (PARTITION BY r.event_id, r.status ORDER BY r.id)::integer
       END AS "position",
       r.registered_at, r.confirmed_at, r.promoted_at, r.cancelled_at, r.attended_at,
       r.source,
       eventbox.hold_state(r) AS hold, r.held_until, r.address_confirmed_at,
       r.hold_expired_at
  FROM eventbox.registrations r
  JOIN eventbox.events e ON e.id = r.event_id
  LEFT JOIN eventbox.organizations o ON o.id = r.organization_id;

-- Attendance that counts: checked in and not cancelled since (a check-in
-- of the wrong person, cancelled afterwards, or an event cancelled after
-- its check-ins is no attendance).  event_report, admin_event() and the
-- purge's kept counts all ask this.
CREATE OR REPLACE FUNCTION eventbox.attended(r eventbox.registrations) RETURNS boolean
LANGUAGE sql IMMUTABLE
AS $$ SELECT r.attended_at IS NOT NULL AND r.status <> 'cancelled' $$;

-- joining_url: the event's online URL as the registration's holder may see
-- it, NULL otherwise.  The one rule of every place that shows it to a
-- patron (registration_by_token(): the "my registration" page and its
-- JSON; mail_claim(): the emails): a confirmed seat whose address is not
-- awaiting its confirmation, of a published event (not one staff moved
-- back to draft, nor a cancelled one).
CREATE OR REPLACE FUNCTION eventbox.joining_url(r eventbox.registrations, e eventbox.events)
RETURNS text
LANGUAGE sql IMMUTABLE
AS $$
    SELECT CASE WHEN r.status = 'confirmed' AND r.held_until IS NULL
                     AND e.status = 'published' THEN e.online_url END
$$;

-- Counts per event for reports, before, during and after purge: the kept
-- counts (event_stats) plus those of the registrations still there.
CREATE OR REPLACE VIEW eventbox.event_report AS
SELECT e.id, e.slug, e.title, e.status, e.starts_at, e.ends_at, e.capacity,
       coalesce(s.registered, 0) + e.confirmed_count + e.waitlisted_count + e.cancelled_count
           AS registered,
       coalesce(s.confirmed, 0) + e.confirmed_count AS confirmed,
       coalesce(s.waitlisted, 0) + e.waitlisted_count AS waitlisted,
       coalesce(s.cancelled, 0) + e.cancelled_count AS cancelled,
       coalesce(s.attended, 0) + (SELECT count(*)::integer FROM eventbox.registrations r
                                  WHERE r.event_id = e.id AND eventbox.attended(r))
           AS attended,
       s.purged_at
  FROM eventbox.events e
  LEFT JOIN eventbox.event_stats s ON s.event_id = e.id;

-- A mail line also says since when the SMTP relay has taken no mail, why
-- (relay_error: "Couldn't connect to server", "smtp 421") and when the
-- mailers try it again; NULL while it takes mail (032, mail_relay_failed()).
CREATE OR REPLACE VIEW eventbox.outbox_backlog AS
SELECT o.status, o.kind, count(*) AS messages, min(o.created_at) AS oldest,
       max(o.attempts) AS max_attempts,
       CASE WHEN o.kind <> 'webhook' THEN r.down_since END AS relay_down_since,
       CASE WHEN o.kind <> 'webhook' AND r.down_since IS NOT NULL
            THEN r.last_error END AS relay_error,
       CASE WHEN o.kind <> 'webhook' AND r.down_since IS NOT NULL
            THEN r.retry_at END AS relay_retry_at
  FROM eventbox.outbox o
 CROSS JOIN eventbox.mail_relay r
 WHERE o.status = 'pending' OR o.status = 'failed'   -- through outbox_due and outbox_failed
 GROUP BY o.status, o.kind, r.down_since, r.last_error, r.retry_at;

-- Messages that failed or are being retried, newest problem first.
CREATE OR REPLACE VIEW eventbox.outbox_failures AS
SELECT o.id, o.status, o.kind, e.slug AS event_slug, o.registration_id, o.email,
       o.attempts, o.last_error, o.created_at, o.next_attempt_at
  FROM eventbox.outbox o
  LEFT JOIN eventbox.events e ON e.id = o.event_id
 WHERE o.status = 'failed' OR (o.status = 'pending' AND o.attempts > 0)
 ORDER BY o.status, o.next_attempt_at DESC;
