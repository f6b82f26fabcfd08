#!/usr/bin/env python3
"""Helpers for scripts/lib/maven-closure.sh that are clearer in Python than in bash.

Subcommands:
  find-classes DIR CLASS...     report which jar in DIR holds each class (dotted name);
                                exit 1 if any is missing
  slf4j-binding DIR             print the SLF4J binding found in DIR's jars
                                ("none" if there is none), and slf4j-api's major version
  standin-parent SRC DST VER [CHILD_POM...]
                                copy a parent POM, changing the project's own <version>, and
                                manage any classifier variant that the child POMs use
"""

import os
import re
import sys
import zipfile


def jars(directory):
    return sorted(f for f in os.listdir(directory) if f.endswith(".jar"))


def find_classes(directory, classes):
    wanted = {c: c.replace(".", "/") + ".class" for c in classes}
    found = {}
    for jar in jars(directory):
        with zipfile.ZipFile(os.path.join(directory, jar)) as z:
            names = set(z.namelist())
        for cls, entry in wanted.items():
            if cls not in found and entry in names:
                found[cls] = jar
    missing = [c for c in classes if c not in found]
    for cls in classes:
        print(f"{cls}: {found.get(cls, 'MISSING')}")
    return 1 if missing else 0


def slf4j_binding(directory):
    """SLF4J 1.x finds its binding through org/slf4j/impl/StaticLoggerBinder.class,
    SLF4J 2.x through a ServiceLoader entry; report whichever is present."""
    api_major = "none"
    bindings = []
    for jar in jars(directory):
        m = re.match(r"slf4j-api-(\d+)\.", jar)
        if m:
            api_major = m.group(1)
            continue
        with zipfile.ZipFile(os.path.join(directory, jar)) as z:
            names = set(z.namelist())
        if ("org/slf4j/impl/StaticLoggerBinder.class" in names
                or "META-INF/services/org.slf4j.spi.SLF4JServiceProvider" in names):
            bindings.append(jar)
    print(f"slf4j-api={api_major} binding={','.join(bindings) or 'none'}")
    return 0


POM_NS = {"m": "http://maven.apache.org/POM/4.0.0"}


def _deps(element):
    out = []
    for d in element.findall("m:dependency", POM_NS) if element is not None else []:
        get = lambda tag: (d.findtext(f"m:{tag}", default="", namespaces=POM_NS) or "").strip()
        out.append({k: get(k) for k in ("groupId", "artifactId", "version", "classifier", "type")})
    return out


def standin_parent(src, dst, version, children=()):
    """A stand-in for a parent POM that is missing from the repository: the previous release's
    parent with its own <version> changed. If a child POM uses a classifier variant (such as
    jline:jdk8) that the old parent does not manage, manage it with the plain artifact's version,
    or the child POM is invalid and Maven drops all its transitive dependencies."""
    import xml.etree.ElementTree as ET
    text = open(src, encoding="utf-8").read()
    # The project's own <version> is the first one after the <parent> block
    # (the block itself holds the grandparent's version).
    end_parent = text.find("</parent>")
    start = end_parent + len("</parent>") if end_parent >= 0 else 0
    m = re.compile(r"<version>[^<]*</version>").search(text, start)
    if not m:
        print(f"no project <version> in {src}", file=sys.stderr)
        return 1
    note = (f"<!-- kafkup test fixture: stand-in for a parent POM missing from Maven Central;"
            f" copied from {os.path.basename(src)}, version changed -->")
    text = text[:m.start()] + f"<version>{version}</version>{note}" + text[m.end():]

    root = ET.fromstring(open(src, "rb").read())
    managed = _deps(root.find("m:dependencyManagement/m:dependencies", POM_NS))
    keys = {(d["groupId"], d["artifactId"], d["classifier"]) for d in managed}
    plain = {(d["groupId"], d["artifactId"]): d["version"] for d in managed if not d["classifier"]}
    extra = []
    for child in children:
        croot = ET.fromstring(open(child, "rb").read())
        for d in _deps(croot.find("m:dependencies", POM_NS)):
            k = (d["groupId"], d["artifactId"], d["classifier"])
            if d["version"] or not d["classifier"] or k in keys:
                continue
            v = plain.get((d["groupId"], d["artifactId"]))
            if v:
                keys.add(k)
                extra.append(f"      <dependency><groupId>{k[0]}</groupId><artifactId>{k[1]}</artifactId>"
                             f"<version>{v}</version><classifier>{k[2]}</classifier></dependency>"
                             f"<!-- added by kafkup's stand-in -->\n")
                print(f"[fixtures] stand-in parent also manages {k[0]}:{k[1]}:{k[2]} at {v}", file=sys.stderr)
    if extra:
        dm = text.find("<dependencyManagement>")
        close = text.find("</dependencies>", dm)
        if dm < 0 or close < 0:
            print(f"no <dependencyManagement> in {src}", file=sys.stderr)
            return 1
        text = text[:close] + "".join(extra) + "    " + text[close:]
    tmp = dst + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, dst)
    return 0


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    cmd, args = argv[1], argv[2:]
    if cmd == "find-classes" and len(args) >= 2:
        return find_classes(args[0], args[1:])
    if cmd == "slf4j-binding" and len(args) == 1:
        return slf4j_binding(args[0])
    if cmd == "standin-parent" and len(args) >= 3:
        return standin_parent(args[0], args[1], args[2], args[3:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
