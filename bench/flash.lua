-- bench/flash.lua: a flash crowd for wrk.  Exactly TOTAL POSTs, each
-- registering an address of its own, from all of wrk's connections at
-- once; each connection sends its next attempt as soon as it has its
-- answer, and is parked once its thread has sent its share.
--
--   wrk -tTHREADS -cCONNS -d600s --timeout 60s --latency \
--       -s bench/flash.lua URL -- TOTAL THREADS TAG DIR [GET]
--
-- GET sends GETs without a body instead (a static file's limit).
-- TAG makes the addresses unique to a run (flash-TAG-T-N@example.org).
-- wrk itself runs until -d is over, whatever its threads do, so a thread
-- that has all its answers stops and writes DIR/done-T; the caller stops
-- wrk (SIGINT) once all are there and takes the time itself (wrk's
-- Requests/sec would count the wait).
-- The last line is for bench/run.sh:
--   flash: sent=N answered=N ok=N bad=N places=N distinct=N
-- ok counts 200 and 201, bad everything else; places the answers that
-- told a waiting-list position, distinct how many positions differ.
-- wrk's own latency figures (--latency) cover exactly the answered ones.

local threads = {}

function setup(thread)
	table.insert(threads, thread)
	thread:set("tid", #threads)
end

local quota, sent, tag, dir, get = 0, 0, "x", nil, false
granted, answered, ok, bad = 0, 0, 0, 0
places = {}

function init(args)
	local total, nthreads = tonumber(args[1]), tonumber(args[2])
	tag = args[3] or "x"
	dir = args[4]
	quota = math.floor(total / nthreads)
	if tid <= total % nthreads then
		quota = quota + 1
	end
	get = args[5] == "GET"
	if not get then
		wrk.method = "POST"
		wrk.headers["Content-Type"] = "application/json"
	end
end

-- wrk asks before every request, the first of each connection included.
function delay()
	if granted < quota then
		granted = granted + 1
		return 0
	end
	return 3600000
end

function request()
	sent = sent + 1
	if get then
		return wrk.format()
	end
	return wrk.format(nil, nil, nil, string.format(
	    '{"name":"Flash Patron","email":"flash-%s-%d-%d@example.org"}',
	    tag, tid, sent))
end

function response(status, headers, body)
	answered = answered + 1
	if status == 200 or status == 201 then
		ok = ok + 1
	else
		bad = bad + 1
	end
	local p = body and string.match(body, '"position":(%d+)')
	if p then
		table.insert(places, tonumber(p))
	end
	if answered == quota then
		wrk.thread:stop()
		if dir then
			local f = assert(io.open(dir .. "/done-" .. tid, "w"))
			f:close()
		end
	end
end

function done(summary, latency, requests)
	local s, a, o, b, n, seen, distinct = 0, 0, 0, 0, 0, {}, 0
	for _, t in ipairs(threads) do
		s = s + t:get("granted")
		a = a + t:get("answered")
		o = o + t:get("ok")
		b = b + t:get("bad")
		for _, p in ipairs(t:get("places")) do
			n = n + 1
			if not seen[p] then
				seen[p] = true
				distinct = distinct + 1
			end
		end
	end
	io.write(string.format(
	    "flash: sent=%d answered=%d ok=%d bad=%d places=%d distinct=%d\n",
	    s, a, o, b, n, distinct))
end
