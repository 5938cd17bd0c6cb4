#!/bin/bash
ok=0; bad=0
for i in $(seq 1 300); do
  r=$(curl -s -m 20 -w " %{http_code}" -XPOST localhost:27130/echo/double -d '[1]')
  case "$r" in *" 200") ok=$((ok+1));; *) bad=$((bad+1)); echo "bad $r";; esac
done
echo ok=$ok bad=$bad
