-- bench/minimal.sql: the baseline `make bench` measures eventbox.register()
-- against, loaded into the bench cluster only (never into the product
-- schema).  The smallest function that does the same job: lock the event
-- row, count the seat (or the place on the waiting list), insert the
-- registration.  No validation, no tokens,
-- no outbox, no idempotency, no eligibility: what is left is PostgreSQL's
-- own cost of one locked, durable registration, on the same cluster
-- settings (synchronous_commit on).  minimal_register_notify() adds one
-- pg_notify to it, to show what a NOTIFY on the commit path costs;
-- rows_register() below is the same job with seats as rows.
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

-- Seats as rows, the design named for a flash crowd (docs/PERFORMANCE.md,
-- "What limits it"), at its smallest: no hot row at all.  The event's seats are rows, each claimed by one registration with
-- FOR UPDATE SKIP LOCKED (so concurrent claims take different seats and
-- their commits share flushes); a place on the waiting list takes only a
-- shared advisory lock of the event (a capacity change would take it
-- exclusively) and its order from a sequence, distinct and FIFO.  The
-- event's row is read, never locked or written.  Leaves out what a real
-- rule would need (a seat skipped because its claim later rolled back
-- while the skipper joined the waiting list; positions counted per event),
-- so it is a lower bound of that design's cost, as the minimal function
-- is of the locked one.
CREATE TABLE bench.seats (
    event_id        bigint NOT NULL REFERENCES bench.events,
    seat            integer NOT NULL,
    registration_id bigint,
    PRIMARY KEY (event_id, seat)
);
CREATE INDEX seats_free ON bench.seats (event_id, seat) WHERE registration_id IS NULL;
CREATE SEQUENCE bench.waiting_order;
ALTER TABLE bench.registrations ADD COLUMN waiting_order bigint;

CREATE FUNCTION bench.rows_register(p_event text, p_name text, p_email text)
RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    e bench.events;
    v_id bigint;
    v_seat integer;
BEGIN
    e := (SELECT x FROM bench.events x WHERE x.slug = p_event);
    IF e.id IS NULL THEN
        RETURN 'not_found';
    END IF;
    PERFORM pg_advisory_xact_lock_shared(7423100, hashint8(e.id));
    v_id := nextval('bench.registrations_id_seq');
    UPDATE bench.seats s SET registration_id = v_id
     WHERE (s.event_id, s.seat) = (SELECT f.event_id, f.seat FROM bench.seats f
                                    WHERE f.event_id = e.id AND f.registration_id IS NULL
                                    ORDER BY f.seat LIMIT 1 FOR UPDATE SKIP LOCKED)
    RETURNING s.seat INTO v_seat;
    IF v_seat IS NOT NULL THEN
        INSERT INTO bench.registrations (id, event_id, name, email, status)
        VALUES (v_id, e.id, p_name, p_email, 'confirmed');
        RETURN 'confirmed';
    ELSIF e.waitlist THEN
        INSERT INTO bench.registrations (id, event_id, name, email, status, waiting_order)
        VALUES (v_id, e.id, p_name, p_email, 'waitlisted', nextval('bench.waiting_order'));
        RETURN 'waitlisted';
    END IF;
    RETURN 'full';
END
$$;

-- Twins of the service's bench events: the hot one, the flash crowd's (100
-- seats and a waiting list; one for each way of committing, and two for
-- the crowds sent by wrk, one by one and batched) and 1,000
-- spread ones.
INSERT INTO bench.events (slug, capacity, waitlist)
VALUES ('flash', 100, true), ('flash-b', 100, true), ('flash-r', 100, true),
       ('flash-bw', 100, true), ('flash-bb', 100, true);
INSERT INTO bench.seats (event_id, seat)
SELECT e.id, g FROM bench.events e, generate_series(1, e.capacity) g WHERE e.slug = 'flash-r';
INSERT INTO bench.events (slug, capacity)
SELECT 'hot', 2000000000
UNION ALL
SELECT 'm-' || g, 2000000000 FROM generate_series(1, 1000) g;
