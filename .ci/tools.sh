#!/usr/bin/env bash
# Makes sure the command-line tools the document tests read PDFs with are on PATH:
# pdftotext, pdfinfo, pdffonts and pdftoppm (Debian's poppler-utils) and qpdf.
# Installs them with apt-get when missing (as root, or with sudo); otherwise says what to do.
set -euo pipefail

need=()
for tool in pdftotext pdfinfo pdffonts pdftoppm; do
    command -v "$tool" >/dev/null 2>&1 || { need+=(poppler-utils); break; }
done
command -v qpdf >/dev/null 2>&1 || need+=(qpdf)
[[ ${#need[@]} -eq 0 ]] && exit 0

if command -v apt-get >/dev/null 2>&1; then
    sudo=()
    if [[ $(id -u) -ne 0 ]]; then
        if command -v sudo >/dev/null 2>&1; then sudo=(sudo); else sudo=(false); fi
    fi
    echo "tools.sh: installing ${need[*]} with apt-get" >&2
    if "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >/dev/null ||
        { "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null &&
          "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >/dev/null; }; then
        exit 0
    fi
fi
cat >&2 <<MSG
tools.sh: the document tests need ${need[*]} (pdftotext, pdfinfo, pdffonts, pdftoppm, qpdf). Install them:
  Debian/Ubuntu: sudo apt-get install poppler-utils qpdf
  macOS:         brew install poppler qpdf
MSG
exit 1
