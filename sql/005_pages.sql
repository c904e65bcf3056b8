-- 005_pages.sql: what the public HTML pages need beyond the API.
--
-- An event may carry an image, served from the same origin (the pages load
-- nothing from anywhere else: the CSP is default-src 'self').  Staff give
-- its alt text, or mark it decorative, in which case the page says alt="".
-- A decorative image needs no alt text; any other image must have one.

ALTER TABLE eventbox.events
    ADD COLUMN image_path text
        CHECK (image_path ~ '^/static/[A-Za-z0-9._/-]+$' AND image_path !~ '\.\.'),
    ADD COLUMN image_alt text CHECK (length(image_alt) <= 500),
    ADD COLUMN image_decorative boolean NOT NULL DEFAULT false,
    ADD CONSTRAINT image_has_alt
        CHECK (image_path IS NULL OR image_decorative
               OR length(btrim(coalesce(image_alt, ''))) > 0);

GRANT UPDATE (image_path, image_alt, image_decorative) ON eventbox.events TO eventbox_ops;

-- The view again, with the same columns in the same order plus the image.
DROP VIEW eventbox.public_events;
CREATE VIEW eventbox.public_events AS
SELECT e.id, e.slug, e.title, e.description, e.presenter, e.format, e.location,
       e.categories, e.organizer, e.accessibility_contact, e.starts_at, e.ends_at,
       e.timezone, e.capacity, e.status, e.waitlist_enabled,
       e.registration_opens_at,
       least(e.registration_closes_at, e.starts_at) AS registration_closes_at,
       greatest(e.capacity - e.confirmed_count, 0) AS seats_available,
       (e.waitlist_enabled AND (e.waitlist_capacity IS NULL
                                OR e.waitlisted_count < e.waitlist_capacity)) AS waitlist_available,
       CASE
           WHEN e.status = 'cancelled' THEN 'cancelled'
           WHEN e.registration_opens_at IS NOT NULL AND now() < e.registration_opens_at
               THEN 'not_open'
           WHEN now() >= least(e.registration_closes_at, e.starts_at) THEN 'closed'
           ELSE 'open'
       END AS registration_state,
       e.image_path, e.image_alt, e.image_decorative
  FROM eventbox.events e
 WHERE e.status <> 'draft';

GRANT SELECT ON eventbox.public_events TO eventbox_service, eventbox_ops;
