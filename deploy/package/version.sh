#!/bin/sh
# Prints the package version of this checkout, from `git describe` (or from
# the describe string given as $1), in a form dpkg and rpm both accept and
# order like the commits:
#   v1.2.3-0-gabc1234        → 1.2.3
#   v1.2.3-4-gabc1234        → 1.2.3+4.gabc1234
#   v1.3.0-rc1-2-gabc1234    → 1.3.0~rc1+2.gabc1234   (~ sorts before 1.3.0)
#   …-dirty                  → …+dirty / ….dirty
#   no tag yet (abc1234)     → 0.0.0+git<commit count>.gabc1234
set -e

d=${1-$(git describe --tags --long --dirty --always --match 'v[0-9]*')}
dirty=
case $d in *-dirty) dirty=dirty d=${d%-dirty} ;; esac

case $d in
*-*-g*)
	hash=${d##*-g}
	d=${d%-g*}
	n=${d##*-}
	tag=$(printf %s "${d%-*}" | sed 's/^v//' | tr - '~')
	if [ "$n" = 0 ]; then v=$tag; else v=$tag+$n.g$hash; fi
	;;
*)
	v=0.0.0+git${COMMITS-$(git rev-list --count HEAD)}.g$d
	;;
esac
if [ -n "$dirty" ]; then
	case $v in *+*) v=$v.$dirty ;; *) v=$v+$dirty ;; esac
fi
printf '%s\n' "$v"
