-- bench/minimal.sql: the baseline `make bench` measures eventbox.register()
-- against, loaded into the bench cluster only (never into the product
-- schema).  The smallest function that does the same job: lock the event
-- row, count the seat (or the place on the waiting list), insert the
-- registration.  No validation, no tokens,
-- no outbox, no idempotency, no eligibility: what is left is PostgreSQL's
-- own cost of one locked, durable registration, on the same cluster
-- settings (synchronous_commit on).  minimal_register_notify() adds one
-- pg_notify to it, to show what a NOTIFY on the commit path costs.
CREATE SCHEMA bench;

CREATE TABLE bench.events (
    id        bigserial PRIMARY KEY,
    slug      text NOT NULL UNIQUE,
    capacity  integer NOT NULL,
    waitlist  boolean NOT NULL DEFAULT false,
    confirmed integer NOT NULL DEFAULT 0 CHECK (confirmed <= capacity),
    waiting   integer NOT NULL DEFAULT 0
);

CREATE TABLE bench.registrations (
    id            bigserial PRIMARY KEY,
    event_id      bigint NOT NULL REFERENCES bench.events,
    name          text NOT NULL,
    email         text NOT NULL,
    status        text NOT NULL,
    registered_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ON bench.registrations (event_id, status);

CREATE FUNCTION bench.minimal_register(p_event text, p_name text, p_email text)
RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    e bench.events;
    v_status text;
BEGIN
    SELECT * INTO e FROM bench.events WHERE slug = p_event FOR UPDATE;
    IF NOT FOUND THEN
        RETURN 'not_found';
    END IF;
    IF e.confirmed < e.capacity THEN
        UPDATE bench.events SET confirmed = confirmed + 1 WHERE id = e.id;
        v_status := 'confirmed';
    ELSIF e.waitlist THEN
        UPDATE bench.events SET waiting = waiting + 1 WHERE id = e.id;
        v_status := 'waitlisted';
    ELSE
        RETURN 'full';
    END IF;
    INSERT INTO bench.registrations (event_id, name, email, status)
    VALUES (e.id, p_name, p_email, v_status);
    RETURN v_status;
END
$$;

CREATE FUNCTION bench.minimal_register_notify(p_event text, p_name text, p_email text)
RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('bench_minimal', '');
    RETURN bench.minimal_register(p_event, p_name, p_email);
END
$$;

-- Twins of the service's bench events: the hot one, the flash crowd's (100
-- seats and a waiting list; one for each way of committing) and 1,000
-- spread ones.
INSERT INTO bench.events (slug, capacity, waitlist) VALUES ('flash', 100, true), ('flash-b', 100, true);
INSERT INTO bench.events (slug, capacity)
SELECT 'hot', 2000000000
UNION ALL
SELECT 'm-' || g, 2000000000 FROM generate_series(1, 1000) g;
