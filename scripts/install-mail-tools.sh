#!/usr/bin/env bash
# Installs the real mail servers and clients the protocol tests drive, and openssl for the TLS
# test's certificates (Debian packages),
# only when something is missing: safe to run again and again; apt-get update runs once.
set -euo pipefail

PACKAGES=(nginx-light libnginx-mod-mail dovecot-imapd dovecot-pop3d dovecot-auth-lua postfix swaks curl openssl)

missing=()
for package in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$package")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo -n"; else
    echo "install-mail-tools: need root (or sudo) to install: ${missing[*]}" >&2
    exit 1
  fi
fi

echo "install-mail-tools: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# No systemd here: keep the packages' postinst from starting nginx/Dovecot as system services.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
  $SUDO chmod 755 "$policy"
  created_policy=1
fi
cleanup() { if [ "$created_policy" -eq 1 ]; then $SUDO rm -f "$policy"; fi; }
trap cleanup EXIT

# Postfix: no system configuration and no system instance (the tests run private instances on
# loopback ports from their own config directories; /etc/postfix/main.cf is never needed).
echo 'postfix postfix/main_mailer_type select No configuration' | $SUDO debconf-set-selections
$SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
$SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-mail-tools: done" >&2
