// eventbox.js: progressive enhancement only; every page works without it.
// After a form comes back with errors, move focus to the error summary so
// screen readers announce it and keyboard users start from there.  The
// summary's autofocus does it in current browsers, with JavaScript off
// too; this is for those that honour autofocus on form controls only.
(function () {
	"use strict";
	var summary = document.getElementById("error-summary");
	if (summary) {
		summary.focus();
	}
}());
