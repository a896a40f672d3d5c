#!/usr/bin/env bash
# Makes sure the command-line tools the tests need are on PATH: for the document tests,
# pdftotext, pdfinfo, pdffonts and pdftoppm (Debian's poppler-utils) and qpdf; for the
# observability tests (tests/deploy/test_observability.py), prometheus and promtool (Debian's
# prometheus package).
# Installs them with apt-get when missing (as root, or with sudo); otherwise says what to do.
set -euo pipefail

need=()
for tool in pdftotext pdfinfo pdffonts pdftoppm; do
    command -v "$tool" >/dev/null 2>&1 || { need+=(poppler-utils); break; }
done
command -v qpdf >/dev/null 2>&1 || need+=(qpdf)
for tool in prometheus promtool; do
    command -v "$tool" >/dev/null 2>&1 || { need+=(prometheus); break; }
done
[[ ${#need[@]} -eq 0 ]] && exit 0

if command -v apt-get >/dev/null 2>&1; then
    sudo=()
    if [[ $(id -u) -ne 0 ]]; then
        if command -v sudo >/dev/null 2>&1; then sudo=(sudo); else sudo=(false); fi
    fi
    echo "tools.sh: installing ${need[*]} with apt-get" >&2
    # --no-install-recommends: the prometheus package recommends the node exporter; the tests
    # need only the two binaries. The tests run their own Prometheus, not the package's service.
    install=(env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}")
    if "${sudo[@]}" "${install[@]}" >/dev/null ||
        { "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null &&
          "${sudo[@]}" "${install[@]}" >/dev/null; }; then
        exit 0
    fi
fi
cat >&2 <<MSG
tools.sh: the tests need ${need[*]} (pdftotext, pdfinfo, pdffonts, pdftoppm, qpdf, prometheus, promtool). Install them:
  Debian/Ubuntu: sudo apt-get install poppler-utils qpdf prometheus
  macOS:         brew install poppler qpdf prometheus
MSG
exit 1
