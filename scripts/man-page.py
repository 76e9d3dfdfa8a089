#!/usr/bin/env python3
"""Finishes the man page swift-argument-parser's generate-manual plugin writes from the
program's own argument definitions: puts back the characters outside ASCII that the plugin
drops from help texts (µg/m³ came out as g/m), taking each such text from the program's
`--experimental-dump-help`; inserts the sections the plugin cannot make (FILES, ENVIRONMENT,
EXIT STATUS, EXAMPLES, from man/aqcast-extra.mdoc) before AUTHORS; and writes every character
outside ASCII as a groff escape, which groff renders without preconv.

Usage: man-page.py GENERATED EXTRA HELP-JSON OUT
"""
import json
import sys

# groff's named glyphs (groff_char(7)); anything else becomes \\[uXXXX].
NAMED = {"µ": r"\(mc", "³": r"\(S3", "²": r"\(S2", "°": r"\(de", "–": r"\(en", "—": r"\(em",
         "±": r"\(+-", "×": r"\(mu", "≥": r"\(>=", "≤": r"\(<="}


def escape(text):
    return "".join(c if ord(c) < 128 else NAMED.get(c, "\\[u%04X]" % ord(c)) for c in text)


def texts(command):
    """Every abstract and discussion of a command, its arguments and its subcommands."""
    for key in ("abstract", "discussion"):
        if isinstance(command.get(key), str):
            yield command[key]
    for argument in command.get("arguments") or []:
        for key in ("abstract", "discussion"):
            if isinstance(argument.get(key), str):
                yield argument[key]
    for sub in command.get("subcommands") or []:
        yield from texts(sub)


def restore(page, help_json):
    """The page with each help text the plugin wrote without its non-ASCII characters
    written whole again; fails when one cannot be found."""
    for text in set(texts(json.load(open(help_json, encoding="utf-8"))["command"])):
        if text.isascii():
            continue
        stripped = "".join(c for c in text if c.isascii())
        if stripped in page:
            page = page.replace(stripped, text)
        elif text not in page:
            sys.exit("man-page.py: the page does not hold the help text %r" % text[:60])
    return page


def main():
    generated, extra, help_json, out = sys.argv[1:5]
    page = restore(open(generated, encoding="utf-8").read(), help_json)
    sections = open(extra, encoding="utf-8").read()
    if not sections.endswith("\n"):
        sections += "\n"
    marker = "\n.Sh AUTHORS"
    at = page.find(marker)
    page = page + sections if at < 0 else page[:at + 1] + sections + page[at + 1:]
    with open(out, "w", encoding="ascii") as f:
        f.write(escape(page))


if __name__ == "__main__":
    main()
