package planner

import (
	"fmt"
	"sort"
	"strings"

	"github.com/rayflow/rayflow/compiler"
)

// val is what the planner knows about a value before the pipeline runs:
// a constant (with where it came from), the call nodes it comes from, a
// list of such values, or a function, built-in or module it names.
// Unknown values are the zero val with, perhaps, refs.
type val struct {
	known bool
	k     any      // int64, float64, string, bool or nil (none) when known
	src   []string // where a constant (or a list's length) came from; empty for literals

	// refs are the nodes this value comes from and how: the future of
	// a node (EdgeFuture), a result the driver got (EdgeValue), an
	// actor handle (EdgeHandle).
	refs map[*Node]EdgeKind

	list  bool
	elems []*val // the known elements, in order
	more  *val   // what the further elements may be; nil when none
	moreN int64  // how many further elements; -1 when not known

	global  *compiler.Global // a declared fn, task or actor
	builtin string
	module  string
	member  string // a member of module
}

func unknown() *val { return &val{} }

func constant(k any, src ...string) *val {
	return &val{known: true, k: k, src: src}
}

// lengthKnown reports whether v is a list whose length is known.
func (v *val) lengthKnown() bool {
	return v != nil && v.list && (v.more == nil || v.moreN >= 0)
}

func (v *val) length() int64 {
	if v.more == nil {
		return int64(len(v.elems))
	}
	return int64(len(v.elems)) + v.moreN
}

// elem returns the i-th element of a list of known length.
func (v *val) elem(i int64) *val {
	if i < int64(len(v.elems)) {
		return v.elems[i]
	}
	return v.more
}

// anyElem is what any element of v may be.
func (v *val) anyElem() *val {
	if v == nil || !v.list {
		return derive(v)
	}
	var out *val
	for _, e := range v.elems {
		out = join(out, e)
	}
	out = join(out, v.more)
	if out == nil {
		return unknown()
	}
	return out
}

func addRefs(dst map[*Node]EdgeKind, from map[*Node]EdgeKind) map[*Node]EdgeKind {
	for n, k := range from {
		if dst == nil {
			dst = map[*Node]EdgeKind{}
		}
		if old, ok := dst[n]; !ok || k < old {
			dst[n] = k
		}
	}
	return dst
}

// allRefs collects the refs of v and of everything inside it.
func allRefs(v *val, dst map[*Node]EdgeKind) map[*Node]EdgeKind {
	if v == nil {
		return dst
	}
	dst = addRefs(dst, v.refs)
	for _, e := range v.elems {
		dst = allRefs(e, dst)
	}
	return allRefs(v.more, dst)
}

func unionSrc(a, b []string) []string {
	out := append([]string(nil), a...)
	for _, s := range b {
		found := false
		for _, t := range out {
			if s == t {
				found = true
				break
			}
		}
		if !found {
			out = append(out, s)
		}
	}
	return out
}

// derive is a value computed from vs by code the planner does not
// follow: unknown, but coming from everything the inputs come from.
func derive(vs ...*val) *val {
	out := &val{}
	for _, v := range vs {
		out.refs = allRefs(v, out.refs)
	}
	return out
}

// join is what a value may be when it is a or b (either may be nil,
// meaning "no value yet").
func join(a, b *val) *val {
	switch {
	case a == nil:
		return b
	case b == nil, a == b:
		return a
	}
	out := &val{refs: addRefs(addRefs(nil, a.refs), b.refs)}
	if a.known && b.known && sameConst(a.k, b.k) {
		out.known, out.k, out.src = true, a.k, unionSrc(a.src, b.src)
	}
	if a.global == b.global {
		out.global = a.global
	}
	if a.builtin == b.builtin {
		out.builtin = a.builtin
	}
	if a.module == b.module && a.member == b.member {
		out.module, out.member = a.module, a.member
	}
	if a.list && b.list {
		out.list = true
		if len(a.elems) == len(b.elems) && (a.more == nil) == (b.more == nil) && a.moreN == b.moreN {
			out.elems = make([]*val, len(a.elems))
			for i := range a.elems {
				out.elems[i] = join(a.elems[i], b.elems[i])
			}
			out.more, out.moreN = join(a.more, b.more), a.moreN
			out.src = unionSrc(a.src, b.src)
		} else {
			out.more, out.moreN = join(a.anyElem(), b.anyElem()), -1
		}
	} else if a.list || b.list {
		out.refs = allRefs(a, allRefs(b, out.refs))
	}
	return out
}

func sameConst(a, b any) bool {
	switch a.(type) {
	case int64, float64, string, bool, nil:
		return a == b
	}
	return false
}

// sig is a canonical description of v, to tell whether a pass over a
// loop changed anything.
func sig(v *val) string {
	var b strings.Builder
	writeSig(&b, v, 0)
	return b.String()
}

func writeSig(b *strings.Builder, v *val, depth int) {
	if v == nil {
		b.WriteString("_")
		return
	}
	if depth > 8 {
		b.WriteString("…")
		return
	}
	if v.known {
		fmt.Fprintf(b, "k%T:%v", v.k, v.k)
	}
	if len(v.refs) > 0 {
		keys := make([]string, 0, len(v.refs))
		for n, k := range v.refs {
			keys = append(keys, fmt.Sprintf("%d/%d", n.seq, k))
		}
		sort.Strings(keys)
		fmt.Fprintf(b, "r%v", keys)
	}
	if v.global != nil {
		b.WriteString("g" + v.global.Name)
	}
	if v.list {
		fmt.Fprintf(b, "[%d|%d:", len(v.elems), v.moreN)
		for _, e := range v.elems {
			writeSig(b, e, depth+1)
			b.WriteByte(',')
		}
		writeSig(b, v.more, depth+1)
		b.WriteByte(']')
	}
}

// truthy reports whether a known value is true, and whether that is
// known.
func truthy(v *val) (bool, bool) {
	if v.lengthKnown() {
		return v.length() > 0, true
	}
	if !v.known {
		return false, false
	}
	x, ok := toValue(v.k)
	if !ok {
		return false, false
	}
	return x.Truth(), true
}

// literal renders a constant as rayflow source.
func literal(k any) string {
	switch x := k.(type) {
	case nil:
		return "none"
	case string:
		return quote(x)
	case float64:
		s := fmt.Sprintf("%v", x)
		if !strings.ContainsAny(s, ".eEn") {
			s += ".0"
		}
		return s
	}
	return fmt.Sprint(k)
}

func quote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\t", `\t`)
	return `"` + r.Replace(s) + `"`
}
