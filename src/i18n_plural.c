/*
 * i18n_plural.c: Plural-Forms (see i18n.h), the C expression in n that a
 * catalogue's header gives ("n==1 ? 0 : n%10>=2 && n%10<=4 ? 1 : 2"),
 * evaluated by recursive descent: ?: || && == != < > <= >= + - * / % !
 * and parentheses, unsigned arithmetic as in GNU gettext.  Nesting is
 * capped (64) and division by zero is an error, so a hostile .mo can make
 * it answer -1 and no worse.
 */
#include <ctype.h>
#include <string.h>

#include "i18n.h"


struct pexpr {
	const char	*p;
	unsigned long	 n;
	int		 depth;
	int		 bad;
};

static unsigned long	 p_cond(struct pexpr *);

static void
p_space(struct pexpr *e)
{
	while (*e->p == ' ' || *e->p == '\t' || *e->p == '\n')
		e->p++;
}

static int
p_eat(struct pexpr *e, const char *tok)
{
	size_t	 l = strlen(tok);

	p_space(e);
	if (strncmp(e->p, tok, l) != 0)
		return 0;
	/* "<" must not take the "<" of "<=", nor "!" the "!" of "!=" */
	if (l == 1 && (tok[0] == '<' || tok[0] == '>' || tok[0] == '!' ||
	    tok[0] == '=') && e->p[1] == '=')
		return 0;
	e->p += l;
	return 1;
}

static unsigned long
p_primary(struct pexpr *e)
{
	unsigned long	 v = 0;

	p_space(e);
	if (++e->depth > 64) {
		e->bad = 1;
		return 0;
	}
	if (p_eat(e, "!"))
		v = !p_primary(e);
	else if (p_eat(e, "(")) {
		v = p_cond(e);
		if (!p_eat(e, ")"))
			e->bad = 1;
	} else if (*e->p == 'n') {
		e->p++;
		v = e->n;
	} else if (isdigit((unsigned char)*e->p)) {
		while (isdigit((unsigned char)*e->p) && v < 100000000UL)
			v = v * 10 + (unsigned long)(*e->p++ - '0');
		if (isdigit((unsigned char)*e->p))
			e->bad = 1;
	} else
		e->bad = 1;
	e->depth--;
	return v;
}

static unsigned long
p_mul(struct pexpr *e)
{
	unsigned long	 v = p_primary(e), r;

	for (;;) {
		if (p_eat(e, "*"))
			v *= p_primary(e);
		else if (p_eat(e, "/") || p_eat(e, "%")) {
			int	 mod = e->p[-1] == '%';

			if ((r = p_primary(e)) == 0) {
				e->bad = 1;
				return 0;
			}
			v = mod ? v % r : v / r;
		} else
			return v;
	}
}

static unsigned long
p_add(struct pexpr *e)
{
	unsigned long	 v = p_mul(e);

	for (;;) {
		if (p_eat(e, "+"))
			v += p_mul(e);
		else if (p_eat(e, "-"))
			v -= p_mul(e);
		else
			return v;
	}
}

static unsigned long
p_rel(struct pexpr *e)
{
	unsigned long	 v = p_add(e);

	for (;;) {
		if (p_eat(e, "<="))
			v = v <= p_add(e);
		else if (p_eat(e, ">="))
			v = v >= p_add(e);
		else if (p_eat(e, "<"))
			v = v < p_add(e);
		else if (p_eat(e, ">"))
			v = v > p_add(e);
		else
			return v;
	}
}

static unsigned long
p_eq(struct pexpr *e)
{
	unsigned long	 v = p_rel(e);

	for (;;) {
		if (p_eat(e, "=="))
			v = v == p_rel(e);
		else if (p_eat(e, "!="))
			v = v != p_rel(e);
		else
			return v;
	}
}

static unsigned long
p_and(struct pexpr *e)
{
	unsigned long	 v = p_eq(e);

	while (p_eat(e, "&&"))
		v = p_eq(e) && v;
	return v;
}

static unsigned long
p_or(struct pexpr *e)
{
	unsigned long	 v = p_and(e);

	while (p_eat(e, "||"))
		v = p_and(e) || v;
	return v;
}

static unsigned long
p_cond(struct pexpr *e)
{
	unsigned long	 c, a, b;

	if (++e->depth > 64) {
		e->bad = 1;
		return 0;
	}
	c = p_or(e);
	if (p_eat(e, "?")) {
		a = p_cond(e);
		if (!p_eat(e, ":"))
			e->bad = 1;
		b = p_cond(e);
		c = c ? a : b;
	}
	e->depth--;
	return c;
}

long
plural_eval(const char *expr, unsigned long n)
{
	struct pexpr	 e = { expr, n, 0, 0 };
	unsigned long	 v = p_cond(&e);

	p_space(&e);
	if (e.bad || *e.p != '\0' || v > 1000)
		return -1;
	return (long)v;
}
