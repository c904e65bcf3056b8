/*
 * fuzz_mail: a patron's message composed by mail_compose() (issue 3) from
 * patron- and staff-supplied text: name, address, token, position, event
 * title, presenter, location, description, online URL, "when".
 *
 * Input: the kind (first byte), then the fields separated by 0x1e.
 * Properties: either mail_compose() refuses the message, or its header
 * section has exactly one To: and one Subject:, no Bcc: or Cc:, every
 * header line is a "Name: value" or a folded continuation, and no line in
 * the whole message ends in a bare CR or LF.  Never a crash or a leak.
 */
#include <string.h>

#include "buf.h"
#include "fuzz.h"
#include "mail.h"

#define NFIELDS	10

static size_t
count_lines(const char *head, size_t len, const char *prefix)
{
	size_t	 i, n = 0, plen = strlen(prefix);

	for (i = 0; i + plen <= len; i++)
		if ((i == 0 || head[i - 1] == '\n') &&
		    strncasecmp(head + i, prefix, plen) == 0)
			n++;
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mail_msg	 m;
	struct buf	 fields[NFIELDS], out = BUF_INIT;
	const char	*p, *end, *sep, *head_end;
	size_t		 i, hlen;

	if (size < 1 || memchr(data, '\0', size) != NULL)
		return 0;	/* values come from text columns: no NUL */
	p = (const char *)data + 1;
	end = (const char *)data + size;
	for (i = 0; i < NFIELDS; i++) {
		fields[i] = (struct buf)BUF_INIT;
		sep = p < end ? memchr(p, 0x1e, (size_t)(end - p)) : NULL;
		if (sep == NULL)
			sep = end;
		if (p < end)
			buf_add(&fields[i], p, (size_t)(sep - p));
		else
			buf_adds(&fields[i], "");
		p = sep < end ? sep + 1 : end;
	}

	memset(&m, 0, sizeof(m));
	m.kind = (enum mail_kind)(data[0] % MAIL__MAX);
	m.from = "Learning Services <events@library.example.org>";
	m.to_name = fields[0].data;
	m.to_email = fields[1].data;
	m.token = fields[2].data;
	m.position = fields[3].data;
	m.title = fields[4].data;
	m.presenter = fields[5].data;
	m.location = fields[6].data;
	m.description = fields[7].data;
	m.online_url = fields[8].data;
	m.when = fields[9].data;
	m.base_url = "https://events.example.org";
	m.registration_status = "confirmed";
	m.event_id = "42";
	m.event_slug = "sample-webinar";
	/* An event_changed notice says what the time and place were. */
	m.was_when = fields[9].data;
	m.was_location = fields[6].data;
	m.link_changed = data[0] & 1;
	m.format = "hybrid";
	m.tzid = "America/New_York";
	m.vtimezone = "BEGIN:VTIMEZONE\r\nTZID:America/New_York\r\n"
	    "END:VTIMEZONE\r\n";
	m.ical_start = "20261216T140000";
	m.ical_end = "20261216T150000";
	m.ical_stamp = "20261129T190000Z";
	m.date = 1796000000;
	m.message_id = "<fixed@library.example.org>";
	m.boundary = "eventbox-fixed";

	if (mail_compose(&out, &m) == 0) {
		FUZZ_CHECK(out.data != NULL);
		head_end = strstr(out.data, "\r\n\r\n");
		FUZZ_CHECK(head_end != NULL);
		hlen = (size_t)(head_end - out.data) + 2;
		FUZZ_CHECK(count_lines(out.data, hlen, "To:") == 1);
		FUZZ_CHECK(count_lines(out.data, hlen, "Subject:") == 1);
		FUZZ_CHECK(count_lines(out.data, hlen, "Bcc:") == 0);
		FUZZ_CHECK(count_lines(out.data, hlen, "Cc:") == 0);
		for (i = 0; i < out.len; i++) {
			if (out.data[i] == '\n')
				FUZZ_CHECK(i > 0 && out.data[i - 1] == '\r');
			if (out.data[i] == '\r')
				FUZZ_CHECK(i + 1 < out.len &&
				    out.data[i + 1] == '\n');
			/* A header line starts with a name or folds. */
			if (i < hlen && i > 0 && out.data[i - 1] == '\n')
				FUZZ_CHECK(out.data[i] == ' ' ||
				    out.data[i] == '\t' ||
				    (out.data[i] >= 'A' && out.data[i] <= 'Z'));
		}
	}
	buf_free(&out);
	for (i = 0; i < NFIELDS; i++)
		buf_free(&fields[i]);
	return 0;
}
