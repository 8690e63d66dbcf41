#!/usr/bin/env python3
"""Writes hangar's man page (roff, section 1) from the argument parser itself: reads the JSON that
`hangar --experimental-dump-help` prints (swift-argument-parser's ToolInfo) on stdin, writes roff on stdout.
Nothing here is hand-written text about hangar: commands, options and their help come from the parser.
Usage: hangar --experimental-dump-help | scripts/manpage.py [--date YYYY-MM-DD] > hangar.1"""
import datetime
import json
import sys


def roff(text):
    """Escapes text for roff: backslashes, and a leading dot or quote that would start a request."""
    text = (text or "").replace("\\", "\\e").replace("-", "\\-")
    lines = []
    for line in text.split("\n"):
        if line.startswith((".", "'")):
            line = "\\&" + line
        lines.append(line)
    return "\n".join(lines)


def synopsis_of(argument):
    """How one argument is written in a usage line, e.g. [--theme <theme>] or <name> ..."""
    names = argument.get("names") or []
    value = argument.get("valueName") or "value"
    if argument["kind"] == "positional":
        text = f"<{value}>"
    else:
        name = argument.get("preferredName") or names[0]
        dashes = "--" if name["kind"] == "long" else "-"
        text = dashes + name["name"]
        if argument["kind"] == "option":
            text += f" <{value}>"
    if argument.get("isRepeating"):
        text += " ..."
    return f"[{text}]" if argument.get("isOptional") else text


def names_of(argument):
    """Every spelling of an option or flag, e.g. -h, --help."""
    out = []
    for name in argument.get("names") or []:
        dashes = {"long": "--", "short": "-", "longWithSingleDash": "-"}[name["kind"]]
        out.append("\\fB" + roff(dashes + name["name"]) + "\\fR")
    value = argument.get("valueName")
    text = ", ".join(out) if out else "\\fI" + roff(value or "value") + "\\fR"
    if argument["kind"] == "option":
        text += " \\fI" + roff(value or "value") + "\\fR"
    return text


def visible(arguments):
    return [a for a in arguments or [] if a.get("shouldDisplay", True)]


def command_section(command, path, out):
    """The synopsis, description and options of one command, then its subcommands."""
    arguments = visible(command.get("arguments"))
    out.append(".SS " + roff(" ".join(path)) if len(path) > 1 else ".SH SYNOPSIS")
    out.append(".B " + roff(" ".join(path)))
    usage = " ".join(synopsis_of(a) for a in arguments)
    if command.get("subcommands") and len(path) == 1:
        usage = "[<subcommand>] " + usage
    if usage:
        out.append(roff(usage))
    if len(path) == 1:
        out.append(".SH DESCRIPTION")
    if command.get("abstract"):
        out.append(".PP\n" + roff(command["abstract"]))
    if command.get("discussion"):
        out.append(".PP\n" + roff(command["discussion"]))
    for argument in arguments:
        out.append(".TP\n" + names_of(argument))
        help_text = argument.get("abstract") or ""
        if argument.get("defaultValue"):
            help_text += f" (default: {argument['defaultValue']})"
        if argument.get("discussion"):
            help_text += "\n" + argument["discussion"]
        out.append(roff(help_text))
    subcommands = [s for s in command.get("subcommands") or [] if s.get("shouldDisplay", True) and s["commandName"] != "help"]
    if subcommands and len(path) == 1:
        out.append(".SH COMMANDS")
    for sub in subcommands:
        command_section(sub, path + [sub["commandName"]], out)


def main():
    date = datetime.date.today().isoformat()
    if len(sys.argv) == 3 and sys.argv[1] == "--date":
        date = sys.argv[2]
    elif len(sys.argv) != 1:
        sys.exit(__doc__)
    info = json.load(sys.stdin)
    command = info["command"]
    name = command["commandName"]
    out = [f'.TH {name.upper()} 1 "{date}" "{name}" "User Commands"', ".SH NAME",
           f"{roff(name)} \\- {roff(command.get('abstract', ''))}"]
    command_section(command, [name], out)
    print("\n".join(out))


if __name__ == "__main__":
    main()
