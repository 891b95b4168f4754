#!/usr/bin/env bash
# Sourced by ./run and ./test: finds a JDK 22+ and Maven, installing Maven with apt-get if absent.
# Exports JAVA_HOME; never relies on anything set up by hand.

panapipe_java_feature() {  # prints the feature release of the java binary $1, or nothing
  "$1" -XshowSettings:properties -version 2>&1 \
    | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p' | head -n 1
}

panapipe_find_jdk() {
  local candidates=() c v
  [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME")
  command -v javac >/dev/null 2>&1 && candidates+=("$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")")
  # PANAPIPE_JVM_DIRS replaces the places searched (a space-separated list of globs).
  for c in ${PANAPIPE_JVM_DIRS:-/usr/lib/jvm/* /opt/java/* /opt/jdk* $HOME/.sdkman/candidates/java/*}; do
    [ -d "$c" ] && candidates+=("$c")
  done
  local best="" bestv=0
  for c in "${candidates[@]}"; do
    [ -x "$c/bin/java" ] && [ -x "$c/bin/javac" ] || continue
    v=$(panapipe_java_feature "$c/bin/java")
    [ -n "$v" ] || continue
    if [ "$v" -ge 22 ] && [ "$v" -gt "$bestv" ]; then best=$c; bestv=$v; fi
  done
  [ -n "$best" ] || return 1
  echo "$best"
}

if ! PANAPIPE_JDK=$(panapipe_find_jdk); then
  cat >&2 <<'MSG'
panapipe: no JDK 22 or newer was found (looked at $JAVA_HOME, javac on PATH, /usr/lib/jvm/*, /opt).
Panapipe uses the Foreign Function & Memory API, final in Java 22. Install a JDK 22+, for example:
    apt-get install temurin-25-jdk        (Adoptium repository)   or   apt-get install openjdk-25-jdk
then run this command again, or point JAVA_HOME at it.
MSG
  exit 3
fi
export JAVA_HOME=$PANAPIPE_JDK
# Maven 3.8's bundled Guava uses sun.misc.Unsafe; JDK 23+ warns about it unless told it's allowed.
if [ "$(panapipe_java_feature "$JAVA_HOME/bin/java")" -ge 23 ]; then
  export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow"
fi
export PATH="$JAVA_HOME/bin:$PATH"

if ! command -v mvn >/dev/null 2>&1; then
  echo "panapipe: Maven not found; installing it with apt-get" >&2
  if [ "$(id -u)" = 0 ]; then
    (apt-get update -qq && apt-get install -y -qq maven) >&2 || { echo "panapipe: could not install Maven; install it (apt-get install maven) and retry" >&2; exit 3; }
  else
    echo "panapipe: install Maven 3.8+ (apt-get install maven) and retry" >&2; exit 3
  fi
fi
