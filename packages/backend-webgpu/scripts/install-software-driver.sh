#!/usr/bin/env bash
# Installs Mesa's software GPU drivers so that @rankwise/backend-webgpu (Dawn via the `webgpu`
# npm package) gets a WebGPU adapter on a machine without a GPU, e.g. CI.
#
#   bash packages/backend-webgpu/scripts/install-software-driver.sh
#
# Idempotent: exits at once when everything is already there. Debian/Ubuntu (apt-get), as root
# (or with sudo). Download on Debian 12 with the stock GL stack present: ~11 MB, ~10 s.
#
# Route 1 (preferred, fast): Vulkan on lavapipe. Dawn rejects Debian 12's Mesa 22.3 lavapipe
# ("Vulkan shaderUniform*ArrayDynamicIndexing required"); Mesa >= 23 works, so on bookworm the
# driver comes from bookworm-backports (Mesa 25). Only mesa-vulkan-drivers is taken from there
# (not `-t bookworm-backports`, which would also upgrade the whole GL stack).
# Route 2 (fallback, slower): Dawn's OpenGL ES backend over stock Mesa llvmpipe through EGL
# (EGL_PLATFORM=surfaceless, set by the package itself).
set -euo pipefail

log() { echo "[install-software-driver] $*"; }

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else log "needs root (or sudo) for apt-get"; exit 1; fi
fi
if ! command -v apt-get >/dev/null 2>&1; then
  log "no apt-get: install Mesa >= 23 'lavapipe' Vulkan driver and the Vulkan loader with your package manager"
  exit 1
fi

# Vulkan route:
#   libvulkan1          - the Vulkan loader (libvulkan.so.1), which Dawn dlopens.
#   mesa-vulkan-drivers - lavapipe (libvulkan_lvp.so), Mesa's CPU Vulkan driver, >= 23 needed.
# OpenGL ES fallback route:
#   libegl1             - glvnd's libEGL.so.1.
#   libegl-dev          - the unversioned libEGL.so symlink: Dawn dlopens "libEGL.so", not ".so.1".
#   libegl-mesa0        - Mesa's EGL vendor library (surfaceless platform).
#   libgl1-mesa-dri     - the llvmpipe/swrast DRI driver that EGL loads.
GL_PACKAGES=(libegl1 libegl-dev libegl-mesa0 libgl1-mesa-dri)
MIN_MESA=23

installed_version() { dpkg-query -W -f='${Status} ${Version}\n' "$1" 2>/dev/null | awk '$3 == "installed" { print $4 }'; }

vulkan_ready() {
  local mesa
  mesa="$(installed_version mesa-vulkan-drivers)"
  [ -n "$mesa" ] && [ -n "$(installed_version libvulkan1)" ] && dpkg --compare-versions "$mesa" ge "$MIN_MESA"
}

gl_ready() {
  local package
  for package in "${GL_PACKAGES[@]}"; do [ -n "$(installed_version "$package")" ] || return 1; done
}

if vulkan_ready && gl_ready; then
  log "already installed: mesa-vulkan-drivers $(installed_version mesa-vulkan-drivers), libvulkan1, EGL/GL packages"
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
APT_INSTALL=(apt-get install -y -q --no-install-recommends)
updated=0
apt_update() { $SUDO apt-get update -q >/dev/null; updated=1; }

# shellcheck disable=SC1091
CODENAME="$(. /etc/os-release && echo "${VERSION_CODENAME:-}")"
VULKAN_TARGET="mesa-vulkan-drivers"

if ! vulkan_ready && [ "$CODENAME" = "bookworm" ]; then
  VULKAN_TARGET="mesa-vulkan-drivers/bookworm-backports"
  if ! apt-cache policy 2>/dev/null | grep -q ' bookworm-backports/main '; then
    [ "$updated" = 1 ] || apt_update
    # Reuse the mirror this machine already uses for bookworm itself.
    MIRROR="$(apt-cache policy | awk '$3 == "bookworm/main" { print $2; exit }')"
    if [ -z "$MIRROR" ]; then
      log "cannot tell which mirror serves bookworm/main; add bookworm-backports to apt's sources by hand"
      exit 1
    fi
    log "adding bookworm-backports from $MIRROR"
    $SUDO tee /etc/apt/sources.list.d/bookworm-backports.sources >/dev/null <<EOF
Types: deb
URIs: $MIRROR
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    apt_update
  fi
fi

[ "$updated" = 1 ] || apt_update

if vulkan_ready; then
  log "Vulkan route already installed"
elif $SUDO "${APT_INSTALL[@]}" "$VULKAN_TARGET" libvulkan1; then
  log "installed mesa-vulkan-drivers $(installed_version mesa-vulkan-drivers)"
  vulkan_ready || log "warning: mesa-vulkan-drivers < $MIN_MESA: Dawn will reject lavapipe; the OpenGL ES route remains"
else
  log "warning: could not install $VULKAN_TARGET; the OpenGL ES route remains"
fi

gl_ready || $SUDO "${APT_INSTALL[@]}" "${GL_PACKAGES[@]}"
log "done"
