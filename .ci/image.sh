#!/usr/bin/env bash
# The container image, built and run with Debian's own tools (buildah, mmdebstrap): no Docker
# engine and no registry needed. A machine with Docker or Podman and registry access builds the
# image the usual way (`docker build -t tally .`); this is for the ones without.
#
#   bash .ci/image.sh bases    the base images the Dockerfile names, made locally when missing
#   bash .ci/image.sh build    bases, then the Dockerfile exactly as it is (IMAGE, default tally:local)
#
# The bases: debian:12.11-slim from Debian's packages (mmdebstrap), and rust:1.95.0-bookworm from
# that plus a C toolchain and this machine's installed Rust toolchain (its version must be the
# Dockerfile's). Both stay in buildah's local storage, as does the builder's dependency layer
# (--layers), so a second build only compiles Tally itself.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

IMAGE="${IMAGE:-tally:local}"
DEBIAN=docker.io/library/debian:12.11-slim
RUST=docker.io/library/rust:1.95.0-bookworm
RUST_VERSION=1.95.0

log() { echo "image.sh: $*" >&2; }

tools() {
    local need=()
    command -v buildah >/dev/null 2>&1 || need+=(buildah)
    command -v mmdebstrap >/dev/null 2>&1 || need+=(mmdebstrap)
    [[ ${#need[@]} -eq 0 ]] && return 0
    if command -v apt-get >/dev/null 2>&1 && [[ $(id -u) -eq 0 ]]; then
        log "installing ${need[*]} with apt-get"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >/dev/null ||
            { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >/dev/null; }
        return
    fi
    log "needs ${need[*]}: sudo apt-get install buildah mmdebstrap (or build with Docker: docker build -t tally .)"
    exit 1
}

has_image() { buildah inspect --type image "$1" >/dev/null 2>&1; }

bases() {
    tools
    local work; work="$(mktemp -d)"
    if ! has_image "$DEBIAN"; then
        log "making $DEBIAN from Debian's packages"
        mmdebstrap --quiet --variant=apt bookworm "$work/rootfs.tar"
        local ctr; ctr="$(buildah from scratch)"
        buildah add --quiet "$ctr" "$work/rootfs.tar" / >/dev/null
        buildah config --cmd /bin/bash --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$ctr"
        buildah commit --quiet "$ctr" "$DEBIAN" >/dev/null
        buildah rm "$ctr" >/dev/null
    fi
    if ! has_image "$RUST"; then
        local sysroot; sysroot="$(rustc +"$RUST_VERSION" --print sysroot 2>/dev/null || rustc --print sysroot)"
        local version; version="$("$sysroot/bin/rustc" --version | awk '{print $2}')"
        if [[ "$version" != "$RUST_VERSION" ]]; then
            log "the Dockerfile builds with Rust $RUST_VERSION; this machine has $version (rustup toolchain install $RUST_VERSION)"
            exit 1
        fi
        log "making $RUST from $DEBIAN, gcc and this machine's Rust $version"
        local ctr; ctr="$(buildah from --pull=never "$DEBIAN")"
        buildah run --isolation chroot "$ctr" -- sh -c \
            'apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends gcc libc6-dev pkg-config ca-certificates >/dev/null && rm -rf /var/lib/apt/lists/*'
        # This machine's CA bundle, for cargo to reach crates.io from inside the build through
        # whatever this network's TLS needs (only the builder has it; the runtime image installs
        # Debian's own).
        buildah copy --quiet "$ctr" /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt >/dev/null
        # The toolchain directory may be a symlink (rustup): copy what it points to.
        cp -aL "$sysroot" "$work/rust"
        buildah copy --quiet "$ctr" "$work/rust" /usr/local/rust >/dev/null
        buildah config --env PATH=/usr/local/rust/bin:/usr/local/cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
            --env CARGO_HOME=/usr/local/cargo "$ctr"
        buildah commit --quiet "$ctr" "$RUST" >/dev/null
        buildah rm "$ctr" >/dev/null
    fi
    rm -rf "$work"
}

build() {
    bases
    log "building $IMAGE from the Dockerfile"
    local started=$SECONDS
    buildah bud --quiet --isolation chroot --pull=never --layers -t "$IMAGE" . >/dev/null
    log "built $IMAGE in $((SECONDS - started)) s: $(buildah images --format '{{.Size}}' "$IMAGE")"
}

case "${1:-}" in
bases) bases ;;
build) build ;;
*)
    echo "usage: $0 bases|build" >&2
    exit 2
    ;;
esac
