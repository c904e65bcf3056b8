# tests/doclib.sh: the docs' own commands, for the scripts that do what the
# docs tell a sysadmin (tests/rehearse.sh, tests/units.sh).  Sourced; needs
# ROOT (the tree).  The commands are read from the docs at each run so that
# what the docs say and what the tests run cannot drift apart.
#
# doc_cmd DOC FIRST [HEADING]: the indented command of docs/DOC whose first
# line starts with FIRST, with its continuation lines; with HEADING, the
# first such after the line that starts with HEADING (a command the docs
# give in two sections).  doc_block DOC FIRST: the indented block from that
# line to the block's end (indented by four spaces or more, as in a list
# item).  Both without the indentation; nothing (status 1) when the docs
# have no such line.
doc_cmd() {
    awk -v first="    $2" -v heading="${3-}" '
        heading != "" { if (index($0, heading) == 1) heading = ""; next }
        index($0, first) == 1 { on = 1 }
        on { print substr($0, 5); if (!/\\$/) { found = 1; exit } }
        END { exit !found }' "$ROOT/docs/$1"
}
doc_block() {
    awk -v first="$2" '
        !on && match($0, /^    +/) && index(substr($0, RLENGTH + 1), first) == 1 {
            on = 1; found = 1; pad = substr($0, 1, RLENGTH) }
        on && index($0, pad) != 1 { exit } on { print substr($0, length(pad) + 1) }
        END { exit !found }' "$ROOT/docs/$1"
}
# doc_sql DOC N: the Nth fenced ```sql block of docs/DOC, without fences.
doc_sql() {
    awk -v n="$2" '/^```sql$/ { k++; on = (k == n); next }
        /^```$/ { if (on) { found = 1; exit } }
        on { print }
        END { exit !found }' "$ROOT/docs/$1"
}

# copy_tree DIR: the tree's files (git's list, or all but var/ and build/)
# into DIR, as a clean checkout has them.
copy_tree() {
    if git -C "$ROOT" rev-parse >/dev/null 2>&1; then
        (cd "$ROOT" && git ls-files -co --exclude-standard | grep -v '^var/' |
            tar -cf - -T - 2>/dev/null) | tar -xf - -C "$1"
    else
        (cd "$ROOT" && tar --exclude=./var --exclude=./build -cf - .) | tar -xf - -C "$1"
    fi
}
