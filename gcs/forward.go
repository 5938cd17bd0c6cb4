package gcs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/raft"

	"github.com/rayflow/rayflow/internal/codec"
)

// Forwarding: every replica takes writes.
//
// A replica that does not lead a shard hands the shard's log entries to
// the replica that does, through the Forwarder its owner set (the GCS has
// no listener of its own beyond raft's: rayflow's heads forward over
// their cluster port), and the leader applies them with ServeForwarded.
// While the shard has no leader (an election runs) or its leader cannot
// be reached, the entry is sent again, with backoff, for up to
// Config.ForwardTimeout: losing a leader costs a wait, not the write.
// Membership changes (Join, Leave) travel the same way, so a replica can
// be added or removed through any replica.
//
// Every command is idempotent (a Put puts, a Delete deletes, a
// PutIfAbsent of a present row is no error), so an entry whose leader was
// lost while committing it is sent again whole.
//
// Without a Forwarder a replica refuses writes to shards it does not lead
// with a *NotLeaderError, as a caller can retry elsewhere.

// Forwarder carries requests between replicas. Its methods are called
// from any goroutine.
type Forwarder interface {
	// Address returns the address by which users know replica id (a
	// head's service address), or "" if it is unknown. Errors that name
	// a leader name it, never a raft port.
	Address(id string) string
	// Forward hands req (bytes of this package) to replica id, whose
	// owner passes them to its Store's ServeForwarded, and returns that
	// reply. An error means no reply came; the request may be sent again.
	Forward(ctx context.Context, id string, req []byte) ([]byte, error)
}

// WriteOption changes how a write is made.
type WriteOption int

const (
	// LeaderOnly makes a write on a replica that does not lead the row's
	// shard fail with ErrNotLeader instead of being forwarded: for a
	// replica's own view (a head's membership), which the leader's
	// replica writes itself.
	LeaderOnly WriteOption = iota + 1
)

func leaderOnly(opts []WriteOption) bool {
	for _, o := range opts {
		if o == LeaderOnly {
			return true
		}
	}
	return false
}

// forwarderBox holds the Forwarder in an atomic pointer.
type forwarderBox struct{ f Forwarder }

// SetForwarder makes this replica forward writes and membership changes
// of shards it does not lead, through f (nil stops forwarding).
func (s *Store) SetForwarder(f Forwarder) {
	if f == nil {
		s.fwd.Store(nil)
		return
	}
	s.fwd.Store(&forwarderBox{f})
}

func (s *Store) forwarder() Forwarder {
	if b := s.fwd.Load(); b != nil {
		return b.f
	}
	return nil
}

// leaderAddress is what errors call the leader id: its Forwarder address.
func (s *Store) leaderAddress(id string) string {
	if f := s.forwarder(); f != nil && id != "" {
		return f.Address(id)
	}
	return ""
}

// Kinds of forwarded request.
const (
	fwdEntry  byte = 1 // shard, a log entry (encodeBatch)
	fwdAdd    byte = 2 // shard, id, base address: add a voter
	fwdRemove byte = 3 // shard, id: remove a server
	fwdIndex  byte = 4 // shard: the index every acknowledged write is at or below
)

// Status of a forwarded request's reply.
const (
	fwdOK        byte = 0 // applied; an entry's reply has each command's error
	fwdNotLeader byte = 1 // the receiver does not lead the shard (now)
	fwdClosed    byte = 2 // the receiver is closing
	fwdFailed    byte = 3 // failed for good; a message follows
)

// Per-command outcome in an entry's reply.
const (
	cmdOK       byte = 0
	cmdNotFound byte = 1
	cmdFailed   byte = 2 // a message follows
)

func encodeForward(kind byte, shard int, args ...[]byte) []byte {
	e := &codec.Encoder{}
	e.Byte(kind)
	e.Uvarint(uint64(shard))
	for _, a := range args {
		e.Blob(a)
	}
	return e.Bytes()
}

// ServeForwarded applies a request another replica forwarded (see
// Forwarder) and returns the reply for it. It never fails: failures are
// in the reply. The store keeps req: a forwarded log entry is applied as
// the slice of req it is, which the raft log and the task batches it
// carries go on referring to, so the caller must never modify req again
// (the transport reads each request into a buffer of its own).
func (s *Store) ServeForwarded(req []byte) []byte {
	d := codec.NewDecoder(req)
	kind := d.Byte()
	i := int(d.Uvarint())
	if d.Err() != nil || i < 0 || i >= len(s.shards) {
		return failedReply(fmt.Errorf("gcs: malformed forwarded request"))
	}
	sh := s.shards[i]
	if err := s.checkOpen(); err != nil {
		return []byte{fwdClosed}
	}
	switch kind {
	case fwdIndex:
		if err := finish(d); err != nil {
			return failedReply(err)
		}
		if err := s.waitRaft(sh.raft.Barrier(s.cfg.ApplyTimeout)); err != nil {
			return raftReply(err)
		}
		e := &codec.Encoder{}
		e.Byte(fwdOK)
		e.Uvarint(sh.raft.AppliedIndex())
		return e.Bytes()
	case fwdEntry:
		entry := d.Blob()
		if err := finish(d); err != nil {
			return failedReply(err)
		}
		if _, err := decodeBatch(entry); err != nil {
			return failedReply(err) // never into the log
		}
		af := sh.raft.Apply(entry, s.cfg.ApplyTimeout)
		if err := s.waitRaft(af); err != nil {
			return raftReply(err)
		}
		res, _ := af.Response().(*applyResult)
		return entryReply(res)
	case fwdAdd, fwdRemove:
		id := string(d.Blob())
		addr := ""
		if kind == fwdAdd {
			addr = string(d.Blob())
		}
		if err := finish(d); err != nil {
			return failedReply(err)
		}
		var f raft.Future
		if kind == fwdAdd {
			f = sh.raft.AddVoter(raft.ServerID(id), raft.ServerAddress(shardAddr(addr, i)), 0, s.cfg.ApplyTimeout)
		} else {
			f = sh.raft.RemoveServer(raft.ServerID(id), 0, s.cfg.ApplyTimeout)
		}
		if err := s.waitRaft(f); err != nil {
			return raftReply(err)
		}
		return []byte{fwdOK}
	}
	return failedReply(fmt.Errorf("gcs: unknown forwarded request %d", kind))
}

func failedReply(err error) []byte {
	e := &codec.Encoder{}
	e.Byte(fwdFailed)
	e.String(err.Error())
	return e.Bytes()
}

// raftReply is the reply for raft's error err.
func raftReply(err error) []byte {
	switch {
	case leaderMoved(err):
		return []byte{fwdNotLeader}
	case errors.Is(err, ErrClosed), errors.Is(err, raft.ErrRaftShutdown):
		return []byte{fwdClosed}
	}
	return failedReply(err)
}

// leaderMoved reports whether raft failed because this replica does not
// lead (any more): the request had no effect (ErrNotLeader) or may have
// had (ErrLeadershipLost), and is to be sent to the new leader.
func leaderMoved(err error) bool {
	return errors.Is(err, raft.ErrNotLeader) || errors.Is(err, raft.ErrNotVoter) || errors.Is(err, raft.ErrLeadershipLost)
}

func entryReply(res *applyResult) []byte {
	if res != nil && res.err != nil {
		return failedReply(res.err)
	}
	e := &codec.Encoder{}
	e.Byte(fwdOK)
	if res == nil || res.errs == nil {
		e.Uvarint(0)
		return e.Bytes()
	}
	e.Uvarint(uint64(len(res.errs)))
	for _, err := range res.errs {
		switch {
		case err == nil:
			e.Byte(cmdOK)
		case errors.Is(err, ErrNotFound):
			e.Byte(cmdNotFound)
		default:
			e.Byte(cmdFailed)
			e.String(err.Error())
		}
	}
	return e.Bytes()
}

// decodeEntryReply reads an entry's reply into the applyResult a local
// apply would have given.
func decodeEntryReply(d *codec.Decoder) (*applyResult, error) {
	n := d.Count(1)
	if n == 0 {
		return &applyResult{}, finish(d)
	}
	res := &applyResult{errs: make([]error, n)}
	for i := 0; i < n && d.Err() == nil; i++ {
		switch d.Byte() {
		case cmdOK:
		case cmdNotFound:
			res.errs[i] = ErrNotFound
		default:
			res.errs[i] = errors.New(d.String())
		}
	}
	return res, finish(d)
}

// errMoved is a reply's fwdNotLeader or fwdClosed: try again.
var errMoved = errors.New("gcs: the leader moved")

// readReply reads a reply's status: nil for fwdOK (d then holds the
// rest), errMoved to try again, or the failure.
func readReply(reply []byte) (*codec.Decoder, error) {
	d := codec.NewDecoder(reply)
	switch st := d.Byte(); {
	case d.Err() != nil:
		return nil, fmt.Errorf("gcs: malformed forwarded reply")
	case st == fwdOK:
		return d, nil
	case st == fwdNotLeader, st == fwdClosed:
		return nil, errMoved
	default:
		return nil, errors.New(d.String())
	}
}

// toLeader sends req, about shard sh, to the shard's leader (this
// replica's own ServeForwarded when it leads) until a reply other than
// "not the leader" comes, ForwardTimeout passes, or stop is closed (the
// batcher's abandon for writes, which Close lets drain first; else the
// store's closing). It returns the reply's decoder past its status.
func (s *Store) toLeader(sh *shard, req []byte, stop <-chan struct{}) (*codec.Decoder, error) {
	deadline := time.Now().Add(s.cfg.ForwardTimeout)
	backoff := 10 * time.Millisecond
	var last error
	for {
		d, err := s.tryLeader(sh, req, deadline, stop)
		if err == nil || (!errors.Is(err, errMoved) && !errors.Is(err, errUnreachable)) {
			return d, err
		}
		last = err
		wait := min(backoff, time.Until(deadline))
		if wait <= 0 {
			return nil, s.gaveUp(sh, last)
		}
		select {
		case <-time.After(wait):
		case <-stop:
			return nil, ErrClosed
		}
		backoff = min(2*backoff, 200*time.Millisecond)
	}
}

// forwardAttempt bounds one attempt to reach a leader.
const forwardAttempt = 2 * time.Second

// errUnreachable is a forward that got no reply.
var errUnreachable = errors.New("gcs: the leader did not answer")

// tryLeader sends req once to whoever leads sh now.
func (s *Store) tryLeader(sh *shard, req []byte, deadline time.Time, stop <-chan struct{}) (*codec.Decoder, error) {
	if sh.raft.State() == raft.Leader {
		return readReply(s.ServeForwarded(req))
	}
	_, id := sh.raft.LeaderWithID()
	f := s.forwarder()
	if id == "" || raft.ServerID(id) == sh.id || f == nil {
		return nil, errMoved
	}
	if try := time.Now().Add(forwardAttempt); try.Before(deadline) {
		deadline = try
	}
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	go func() {
		select {
		case <-stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	reply, err := f.Forward(ctx, string(id), req)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errUnreachable, err)
	}
	return readReply(reply)
}

// gaveUp is the error of a request no leader took within ForwardTimeout.
func (s *Store) gaveUp(sh *shard, last error) error {
	nle := sh.notLeader()
	if nle.LeaderID == "" {
		return fmt.Errorf("%w: no leader of shard %d took the write within %s", ErrTimeout, sh.index, s.cfg.ForwardTimeout)
	}
	who := nle.LeaderID
	if nle.Service != "" {
		who += " at " + nle.Service
	}
	return fmt.Errorf("%w: the leader of shard %d (%s) did not take the write within %s (%v)", ErrTimeout, sh.index, who, s.cfg.ForwardTimeout, last)
}

// forwardEntry sends the commands of items to sh's leader as one entry.
func (s *Store) forwardEntry(sh *shard, items []*pending, stop <-chan struct{}) (*applyResult, error) {
	var cmds []command
	for _, p := range items {
		cmds = append(cmds, p.cmds...)
	}
	d, err := s.toLeader(sh, encodeForward(fwdEntry, sh.index, encodeBatch(cmds)), stop)
	if err != nil {
		return nil, err
	}
	res, err := decodeEntryReply(d)
	if err == nil && res.errs != nil && len(res.errs) != len(cmds) {
		err = fmt.Errorf("gcs: forwarded reply has %d results for %d commands", len(res.errs), len(cmds))
	}
	return res, err
}

// catchUp waits until this replica has applied every write of shard sh
// acknowledged before the call (a read index, after etcd's): the leader
// confirms it still leads with a barrier and says how far its log is
// applied; this replica waits until it has applied as far.
func (s *Store) catchUp(sh *shard) error {
	d, err := s.toLeader(sh, encodeForward(fwdIndex, sh.index), s.closing)
	if err != nil {
		return err
	}
	index := d.Uvarint()
	if err := finish(d); err != nil {
		return err
	}
	deadline := time.Now().Add(s.cfg.ForwardTimeout)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for sh.raft.AppliedIndex() < index {
		if time.Now().After(deadline) {
			return fmt.Errorf("%w: shard %d applied up to %d within %s, the leader had %d", ErrTimeout, sh.index, sh.raft.AppliedIndex(), s.cfg.ForwardTimeout, index)
		}
		select {
		case <-tick.C:
		case <-s.closing:
			return ErrClosed
		}
	}
	return nil
}

// changeMembers adds (addr != "") or removes the replica id on every
// shard at once, through each shard's leader, and joins their errors.
func (s *Store) changeMembers(id, addr string) error {
	if err := s.checkOpen(); err != nil {
		return err
	}
	errs := make([]error, len(s.shards))
	done := make(chan int, len(s.shards))
	for i, sh := range s.shards {
		req := encodeForward(fwdRemove, i, []byte(id))
		if addr != "" {
			req = encodeForward(fwdAdd, i, []byte(id), []byte(addr))
		}
		go func() {
			_, errs[i] = s.toLeader(sh, req, s.closing)
			if errs[i] != nil {
				errs[i] = fmt.Errorf("shard %d: %w", i, errs[i])
			}
			done <- i
		}()
	}
	for range s.shards {
		<-done
	}
	return errors.Join(errs...)
}
