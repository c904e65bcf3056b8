/*
 * page_cancel.h: the cancel button of a token holder's pages.
 *
 * page_cancel_form() writes the form that posts to /cancel/{token} (the
 * token is req->args[0]) with its CSRF field, and sets the CSRF cookie
 * (csrf.h).  The cancel page and the "my registration" page show it.
 */
#ifndef EVENTBOX_PAGE_CANCEL_H
#define EVENTBOX_PAGE_CANCEL_H

#include "http.h"

void	 page_cancel_form(struct request *, struct response *, int waiting);

#endif
