#!/usr/bin/env bash
# Sourced by ./test: the real servers the integration module drives over Panapipe's java.net
# adapters (PostgreSQL, nginx, Redis, from Debian's packages), and, when running as root, the
# unprivileged user that runs them (PostgreSQL refuses to run as root). Nothing is started here:
# each test starts its server on a private socket in a temp dir and stops it.
panapipe_it_user=panapipe-it
panapipe_it_pkgs=()
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || command -v initdb >/dev/null 2>&1 \
  || panapipe_it_pkgs+=(postgresql)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || panapipe_it_pkgs+=(nginx)
command -v redis-server >/dev/null 2>&1 || panapipe_it_pkgs+=(redis-server)
if [ ${#panapipe_it_pkgs[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "panapipe: installing integration-test servers: ${panapipe_it_pkgs[*]}" >&2
    # The tests start their own instances on private sockets; a system service the package may
    # start is not used.
    (apt-get update -qq \
      && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
           "${panapipe_it_pkgs[@]}") >&2 \
      || echo "panapipe: could not install ${panapipe_it_pkgs[*]}; the integration tests will fail" >&2
  else
    echo "panapipe: please install ${panapipe_it_pkgs[*]} (the integration tests start them)" >&2
  fi
fi
if [ "$(id -u)" = 0 ] && ! id -u "$panapipe_it_user" >/dev/null 2>&1; then
  useradd --system --no-create-home --shell /usr/sbin/nologin "$panapipe_it_user" \
    || echo "panapipe: could not create user $panapipe_it_user; the integration tests will fail" >&2
fi
export PANAPIPE_IT_USER="$panapipe_it_user"
