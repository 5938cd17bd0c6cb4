package wire

import (
	"encoding/binary"
	"math"
	"strconv"
	"strings"
	"sync"

	"github.com/rayflow/rayflow/internal/codec"
)

// SubmitGroup is the Kind of a GroupSubmit: a whole group of calls
// (batch, fuse) in one message of a SubmitTask frame. Its first byte is
// that Kind, as a Submit's is, so EachSubmit's callers tell the two
// apart by it (IsGroup).
const SubmitGroup uint8 = SubmitStop + 1

// GroupSubmit sends a node every call of one group of calls in one
// message: what the calls share (owner, program, where prints go,
// resources, the group's lineage) once, and per call only its ID, its
// function (an index into Functions) and its arguments. An argument
// that is the result of an earlier call of the group names that call by
// its index (Arg.Member) and carries nothing else: the node passes the
// value from the one call to the next. The node runs the calls in order
// on one worker slot, each a task of its own with its own ID, result and
// error, and reports their results to Owner.
//
// Loose marks a frame of independent tasks sent together rather than a
// group: each call is a task alone, queued on its own once its arguments
// are ready (no argument names a member); what the calls share still
// travels once, their lineage too (one bundle in Lineage, holding what
// every call of the frame needs). A call's own GroupCall.Lineage is
// still read and taken in (empty from the senders of today).
type GroupSubmit struct {
	Loose       bool
	ActorID     string // the nearest actor among the callers (a cancel stops there)
	Owner       string
	ProgramHash string // "" for Go functions registered as tasks
	Output      string
	Resources   map[string]float64
	Lineage     []byte // the uncommitted lineage of the group or frame (a stash bundle)
	Functions   []string
	Calls       []GroupCall
}

// GroupCall is one call of a GroupSubmit.
//
// On the wire a call whose ID is the next call of the call before it
// (IDs "<caller>.<n>" and "<caller>.<n+1>", as exec.Thread.NextCallID
// makes them: a fused chain's and a batch's calls) carries an empty ID,
// and the reader derives it (derivedIDs): the ID travels and is read
// once per run of consecutive calls, not once per call. Any other ID
// travels whole. A task ID is never empty.
type GroupCall struct {
	ID   string
	Fn   int   // index into GroupSubmit.Functions
	Args []Arg // read-only once decoded: a call's may be shared (memberArgs)
	// Lineage, in a Loose frame only, is uncommitted lineage the call
	// needs beyond the frame's (a stash bundle; empty when the frame's
	// Lineage holds it all, as it does from this version's senders).
	Lineage []byte
}

// The flags of a GroupSubmit on the wire.
const groupLoose byte = 1

// The tags of a GroupCall's arguments on the wire.
const (
	groupArgInline byte = iota
	groupArgObject
	groupArgMember
)

// IsGroup reports whether an encoded message of a SubmitTask frame is a
// GroupSubmit.
func IsGroup(msg []byte) bool { return len(msg) > 0 && msg[0] == SubmitGroup }

// SizeHint is at least the size of the message encoded, without
// encoding it (each length prefix counted as its largest).
func (m *GroupSubmit) SizeHint() int {
	size := 64 + len(m.ActorID) + len(m.Owner) + len(m.ProgramHash) + len(m.Output) + len(m.Lineage) + 24*len(m.Resources)
	for k := range m.Resources {
		size += len(k)
	}
	for _, f := range m.Functions {
		size += 10 + len(f)
	}
	for _, c := range m.Calls {
		size += 40 + len(c.ID) + len(c.Lineage) // an ID derived on the wire counted whole
		for _, a := range c.Args {
			size += 31 + len(a.Inline) + len(a.ObjectID) + len(a.Location) + len(a.Name)
		}
	}
	return size
}

// Encode writes the message, starting with its Kind.
func (m *GroupSubmit) Encode() []byte {
	w := codec.NewEncoder(make([]byte, 0, m.SizeHint()))
	m.encodeHead(w)
	w.Uvarint(uint64(len(m.Calls)))
	var run CallRun
	for i, c := range m.Calls {
		derived := i > 0 && run.Next(c.ID)
		if !derived {
			run.Start(c.ID)
		}
		encodeGroupCall(w, c.ID, derived, c.Fn, m.Loose, c.Lineage, c.Args)
	}
	return w.Bytes()
}

// encodeHead writes what the calls of the message share, from its Kind
// to its functions.
func (m *GroupSubmit) encodeHead(w *codec.Encoder) {
	w.Uvarint(uint64(SubmitGroup))
	var flags byte
	if m.Loose {
		flags |= groupLoose
	}
	w.Byte(flags)
	w.String(m.ActorID)
	w.String(m.Owner)
	w.String(m.ProgramHash)
	w.String(m.Output)
	w.FloatMap(m.Resources)
	w.Blob(m.Lineage)
	w.Strings(m.Functions)
}

// encodeGroupCall writes one call of a group: its ID ("" when derived
// from the call before), its function, its lineage in a loose frame, and
// its arguments.
func encodeGroupCall(w *codec.Encoder, id string, derived bool, fn int, loose bool, lineage []byte, args []Arg) {
	if derived {
		w.String("")
	} else {
		w.String(id)
	}
	w.Uvarint(uint64(fn))
	if loose {
		w.Blob(lineage)
	}
	w.Uvarint(uint64(len(args)))
	for _, a := range args {
		switch {
		case a.Member > 0:
			w.Byte(groupArgMember)
			w.Uvarint(uint64(a.Member))
		case a.ObjectID != "":
			w.Byte(groupArgObject)
			w.String(a.ObjectID)
			w.String(a.Location)
			w.String(a.Name)
		default:
			w.Byte(groupArgInline)
			w.Blob(a.Inline)
		}
	}
}

// GroupWriter writes the calls of a GroupSubmit (not a loose frame) one
// at a time as its sender makes them, without a GroupCall or an Arg
// kept for each: Message then writes the message with what they share
// in front, exactly as Encode writes it with those calls.
type GroupWriter struct {
	calls codec.Encoder // the calls written, as Encode writes them
	n     int
	run   CallRun
}

// NewGroupWriter returns a writer whose buffer starts with room for
// about sizeHint bytes of calls.
func NewGroupWriter(sizeHint int) *GroupWriter {
	return &GroupWriter{calls: *codec.NewEncoder(make([]byte, 0, sizeHint))}
}

// Call writes the next call: its ID, its function (an index into the
// message's Functions) and its arguments, which the writer keeps nothing
// of.
func (g *GroupWriter) Call(id string, fn int, args []Arg) {
	derived := g.n > 0 && g.run.Next(id)
	if !derived {
		g.run.Start(id)
	}
	encodeGroupCall(&g.calls, id, derived, fn, false, nil, args)
	g.n++
}

// Len is the size of the calls written so far.
func (g *GroupWriter) Len() int { return g.calls.Len() }

// Message is the GroupSubmit with m's shared fields (m.Calls is ignored,
// m.Loose must be false) and the calls written.
func (g *GroupWriter) Message(m *GroupSubmit) []byte {
	w := codec.NewEncoder(make([]byte, 0, m.SizeHint()+binary.MaxVarintLen64+g.calls.Len()))
	head := *m
	head.Calls, head.Loose = nil, false
	head.encodeHead(w)
	w.Uvarint(uint64(g.n))
	w.Raw(g.calls.Bytes())
	return w.Bytes()
}

// DecodeGroupSubmit reads a message written by GroupSubmit.Encode. A
// call's function index and an argument's member index are checked: a
// member is an earlier call of the group.
func DecodeGroupSubmit(b []byte) (*GroupSubmit, error) {
	r := codec.NewDecoder(b)
	if kind := r.Uvarint(); r.Err() == nil && kind != uint64(SubmitGroup) {
		r.Fail("not a group of calls")
	}
	flags := r.Byte()
	if r.Err() == nil && flags&^groupLoose != 0 {
		r.Fail("unknown group flags")
	}
	m := &GroupSubmit{Loose: flags&groupLoose != 0, ActorID: r.String(), Owner: r.String(), ProgramHash: r.String(), Output: r.String()}
	m.Resources = ReadResources(r)
	m.Lineage = r.Blob()
	m.Functions = r.Strings()
	n := r.Count(3)
	if r.Err() == nil {
		m.Calls = make([]GroupCall, 0, n)
	}
	ids := derivedIDs{calls: n}
	var args argChunks
	shared := memberArgs()
	for i := 0; i < n && r.Err() == nil; i++ {
		var c GroupCall
		if id := r.Blob(); len(id) > 0 {
			c.ID = string(id)
			ids.restart(c.ID)
		} else if !ids.next(i) && r.Err() == nil {
			r.Fail("a call without an ID follows no call of the form <caller>.<n>")
		}
		c.Fn = int(r.Uvarint())
		if r.Err() == nil && c.Fn >= len(m.Functions) {
			r.Fail("a call's function is out of range")
		}
		if m.Loose {
			c.Lineage = r.Blob()
		}
		nargs := r.Count(2)
		for j := 0; j < nargs && r.Err() == nil; j++ {
			a := readGroupArg(r, i)
			if m.Loose && a.Member > 0 {
				r.Fail("a task of a loose frame names a member")
			}
			if nargs == 1 && a.Member > 0 && a.Member <= len(shared) {
				c.Args = shared[a.Member-1 : a.Member : a.Member] // a chain's call: shared, no memory of its own
				break
			}
			if j == 0 {
				c.Args = args.take(nargs, n-i)
			}
			c.Args[j] = a
		}
		m.Calls = append(m.Calls, c)
	}
	if r.Err() == nil && r.Remaining() > 0 {
		r.Fail("trailing bytes after a group of calls")
	}
	if r.Err() == nil {
		ids.fill(m.Calls)
	}
	return m, Err(r)
}

// FollowsCall reports whether id is the next call of the call prev
// ("<caller>.<n+1>" after "<caller>.<n>", n+1 written as
// exec.Thread.NextCallID writes it), so that a reader derives id exactly
// from prev: a group's call or a TaskDoneList's message for id then goes
// without it.
func FollowsCall(prev, id string) bool {
	var run CallRun
	return run.Start(prev) && run.Next(id)
}

// CallRun follows a run of one caller's consecutive calls
// ("<caller>.<n>", "<caller>.<n+1>", ...: a group's calls, as
// exec.Thread.NextCallID numbers them), reading each call's ID once and
// its caller's part not at all: a writer of a group's calls tells the
// calls it can send without their IDs, an owner a group it keeps as one
// record.
type CallRun struct {
	Caller string // the calls' caller
	N      uint64 // the number of the run's last call
	ok     bool
}

// Start starts a run at the call id; false when id is not of the form
// <caller>.<n> (the run then follows nothing).
func (r *CallRun) Start(id string) bool {
	r.Caller, r.N, r.ok = CallNumber(id)
	return r.ok
}

// Next reports whether id is the call after the run's last (its number
// written as NextCallID writes it), which it then makes the run's last.
func (r *CallRun) Next(id string) bool {
	next := r.N + 1
	c := len(r.Caller)
	if !r.ok || next == 0 || len(id) != c+1+decimalLen(next) || id[c] != '.' || id[:c] != r.Caller {
		return false
	}
	if k, ok := parseDecimal(id[c+1:]); !ok || k != next {
		return false
	}
	r.N = next
	return true
}

// CallNumber splits a task ID "<caller>.<n>" into its caller's ID and n.
func CallNumber(id string) (caller string, n uint64, ok bool) {
	dot := strings.LastIndexByte(id, '.')
	if dot < 0 {
		return "", 0, false
	}
	if n, ok = parseDecimal(id[dot+1:]); !ok {
		return "", 0, false
	}
	return id[:dot], n, true
}

// parseDecimal is strconv.ParseUint(s, 10, 64) without its generality
// (it is on the path of every call of a group, and of every result):
// false for an empty s, a byte that is not a digit, or a number over
// 64 bits.
func parseDecimal(s string) (uint64, bool) {
	if len(s) == 0 {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		d := uint64(s[i] - '0')
		if d > 9 || n > (math.MaxUint64-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, true
}

// decimalLen is how many digits n has in decimal.
func decimalLen(n uint64) int {
	d := 1
	for ; n >= 10; n /= 10 {
		d++
	}
	return d
}

// argChunks hands out the argument slices of a group's calls from
// chunks, each twice as large as the one before (up to one argument for
// every call left), not one allocation a call.
type argChunks struct {
	free []Arg
	next int // the size of the next chunk
}

// take returns n arguments; left is how many calls are left to read,
// this one's included.
func (a *argChunks) take(n, left int) []Arg {
	if len(a.free) < n {
		a.next = min(max(a.next*2, 8), left)
		a.free = make([]Arg, max(n, a.next))
	}
	args := a.free[:n:n]
	a.free = a.free[n:]
	return args
}

// memberArgs holds, read-only, the argument list of a call whose one
// argument is the result of call k of its group (Arg{Member: k}) at
// k-1, for k up to the size of a group an adaptive program makes: the
// calls of a fused chain share them and take no memory of their own
// (the memory a group's reader takes is most of its time on a node that
// is given few). Readers of a GroupCall never write its Args. Made at
// the first group read, not at every process's start (most never read
// one).
var memberArgs = sync.OnceValue(func() []Arg {
	args := make([]Arg, 1024)
	for i := range args {
		args[i].Member = i + 1
	}
	return args
})

// derivedIDs makes the IDs a GroupSubmit's reader derives (calls sent
// without one), all in one buffer made into one string at the end, so a
// group's derived IDs cost one allocation, not one each. Which calls
// they are is found again at the end (fill), not kept per call.
type derivedIDs struct {
	calls int     // how many calls the group has (the buffer's size)
	run   CallRun // the last call read, when of the form <caller>.<n>
	buf   []byte  // the derived IDs, one after the other
}

// restart notes a call read with its ID.
func (d *derivedIDs) restart(id string) { d.run.Start(id) }

// next derives the ID of call i, the call after the last read; false
// when that call's ID has not the form <caller>.<n>.
func (d *derivedIDs) next(i int) bool {
	r := &d.run
	if !r.ok || r.N+1 == 0 {
		return false
	}
	r.N++
	if d.buf == nil { // sized once for the group: its IDs after this one as long as this one's
		d.buf = make([]byte, 0, (d.calls-i)*(len(r.Caller)+1+decimalLen(r.N+uint64(d.calls-i))))
	}
	d.buf = append(d.buf, r.Caller...)
	d.buf = append(d.buf, '.')
	d.buf = strconv.AppendUint(d.buf, r.N, 10)
	return true
}

// fill sets the derived IDs of calls, those without one, in the order
// next made them: each is the caller of the call before it and the next
// number, as long as next wrote it.
func (d *derivedIDs) fill(calls []GroupCall) {
	if len(d.buf) == 0 {
		return
	}
	all := string(d.buf)
	from, caller := 0, ""
	var n uint64
	for i := range calls {
		if calls[i].ID != "" {
			caller, n, _ = CallNumber(calls[i].ID)
			continue
		}
		n++
		to := from + len(caller) + 1 + decimalLen(n)
		calls[i].ID = all[from:to]
		from = to
	}
}

// readGroupArg reads one argument of call i of a group.
func readGroupArg(r *codec.Decoder, i int) Arg {
	switch r.Byte() {
	case groupArgInline:
		return Arg{Inline: r.Blob()}
	case groupArgObject:
		return Arg{ObjectID: r.String(), Location: r.String(), Name: r.String()}
	case groupArgMember:
		k := r.Uvarint()
		if r.Err() == nil && (k == 0 || k > uint64(i)) {
			r.Fail("an argument names a call that is not earlier in its group")
		}
		return Arg{Member: int(k)}
	}
	r.Fail("unknown argument tag")
	return Arg{}
}
