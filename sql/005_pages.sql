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
