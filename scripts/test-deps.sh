#!/usr/bin/env bash
# Sourced by ./test: the non-Java peers the interoperability tests drive (from Debian's packages).
panapipe_need_pkgs=()
command -v socat >/dev/null 2>&1 || panapipe_need_pkgs+=(socat)
command -v python3 >/dev/null 2>&1 || panapipe_need_pkgs+=(python3)
command -v gcc >/dev/null 2>&1 || panapipe_need_pkgs+=(gcc)
if [ ${#panapipe_need_pkgs[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "panapipe: installing test peers: ${panapipe_need_pkgs[*]}" >&2
    (apt-get update -qq && apt-get install -y -qq "${panapipe_need_pkgs[@]}") >&2 \
      || echo "panapipe: could not install ${panapipe_need_pkgs[*]}; the interoperability tests will fail" >&2
  else
    echo "panapipe: please install ${panapipe_need_pkgs[*]} (the interoperability tests drive them)" >&2
  fi
fi
