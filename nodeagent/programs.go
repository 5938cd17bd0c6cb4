package nodeagent

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/frontend"
	"github.com/rayflow/rayflow/gcs"
	"github.com/rayflow/rayflow/nodeagent/head"
	"github.com/rayflow/rayflow/nodeagent/transport"
	"github.com/rayflow/rayflow/nodeagent/wire"
	"github.com/rayflow/rayflow/planner"
)

// Programs over the network. The driver stores its program's source in
// the GCS programs table, keyed by the hash of what it stores
// (registerProgram); a node that is sent a task of a program it has not
// seen loads it from there by that hash, checks it against the hash,
// checks that this process has the Go functions it needs, compiles it
// with the one front end and plans it with the driver's options, which
// travel in the blob (program). Each process compiles a program once. A
// driver that stores a program asks the nodes of its view to load it
// ahead of its first task there (loadProgramAhead).

// programCache is the programs this process has compiled, by hash. It is
// its own lock's: any goroutine (connection goroutines loading a task's
// program, the driver registering its own) may call it. A goroutine
// that misses while another loads the same program waits for that load
// (begin).
type programCache struct {
	mu     sync.Mutex
	byHash map[string]cachedProgram
	// shipped are the programs this process stored in the GCS for the
	// jobs it drives: their hashes go with its job leases, which keeps
	// them in the GCS while it drives a job (head.ProgramRetention).
	shipped map[string]bool
	// loading are the programs being loaded now, each closed when its
	// load is over (begin, end).
	loading map[string]chan struct{}
}

// ship records that this process stored program hash for its jobs.
func (pc *programCache) ship(hash string) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if pc.shipped == nil {
		pc.shipped = map[string]bool{}
	}
	pc.shipped[hash] = true
}

// shippedHashes lists the programs this process stored, in no order.
func (pc *programCache) shippedHashes() []string {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	out := make([]string, 0, len(pc.shipped))
	for h := range pc.shipped {
		out = append(out, h)
	}
	return out
}

// cachedProgram is a compiled program and the limits its job runs
// under, as its driver shipped them.
type cachedProgram struct {
	p *exec.Program
	jobLimits
}

// jobLimits are the limits a job's driver ships with its program: the
// step limit (run --max-steps) and the memory cap (run --max-memory);
// 0 for none.
type jobLimits struct {
	maxSteps, maxMemory int64
}

// limits are the limits program hash runs under, if known.
func (pc *programCache) limits(hash string) (jobLimits, bool) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	e, ok := pc.byHash[hash]
	return e.jobLimits, ok
}

// begin marks program hash as being loaded: first is true for the
// goroutine that loads it, which calls end with done when it is over;
// the others wait for done.
func (pc *programCache) begin(hash string) (done chan struct{}, first bool) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if d := pc.loading[hash]; d != nil {
		return d, false
	}
	if pc.loading == nil {
		pc.loading = map[string]chan struct{}{}
	}
	done = make(chan struct{})
	pc.loading[hash] = done
	return done, true
}

// end says the load begun with done is over.
func (pc *programCache) end(hash string, done chan struct{}) {
	pc.mu.Lock()
	delete(pc.loading, hash)
	pc.mu.Unlock()
	close(done)
}

func (pc *programCache) get(hash string) *exec.Program {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	return pc.byHash[hash].p
}

// all lists the programs compiled so far, in no particular order.
func (pc *programCache) all() []*exec.Program {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	out := make([]*exec.Program, 0, len(pc.byHash))
	for _, e := range pc.byHash {
		out = append(out, e.p)
	}
	return out
}

// put records a compiled program and the limits its job runs under.
func (pc *programCache) put(p *exec.Program, lim jobLimits) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if pc.byHash == nil {
		pc.byHash = map[string]cachedProgram{}
	}
	pc.byHash[p.Hash] = cachedProgram{p: p, jobLimits: lim}
}

// program returns the compiled program with the given source hash,
// loading it from the GCS and compiling it the first time.
func (nw *network) program(hash string) (*exec.Program, error) {
	if p := nw.programs.get(hash); p != nil {
		return p, nil
	}
	done, first := nw.programs.begin(hash)
	if !first {
		<-done // another goroutine loads it (loaded ahead): use its result, or load it here if it failed
		if p := nw.programs.get(hash); p != nil {
			return p, nil
		}
	} else {
		defer nw.programs.end(hash, done)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	blob, err := nw.hc.GCS(ctx, wire.GCSGetProgram, wire.EncodeStrings(hash))
	if err != nil {
		return nil, fmt.Errorf("cannot load program %s from the GCS: %w", gcs.ShortHash(hash), err)
	}
	if err := checkProgramHash(nw.c.Head().ID, hash, blob); err != nil {
		return nil, err
	}
	sp := splitProgramBlob(blob)
	if missing := frontend.Missing(sp.needs, nw.c.cfg.Modules); len(missing) > 0 {
		return nil, &refusedProgramError{fmt.Sprintf("node %s cannot run %s: it lacks %s, which the program uses; register the same Go functions in every node's process (nodeagent.Config.Modules, see rayflow.HostModules)",
			nw.c.Head().ID, sp.name, frontend.Describe(missing))}
	}
	fp, err := frontend.Compile(sp.name, sp.source, nw.c.cfg.Modules)
	if err != nil {
		return nil, err
	}
	opt, err := planner.ParseOpt(sp.spec)
	if err != nil {
		return nil, &refusedProgramError{fmt.Sprintf("node %s cannot plan %s with the driver's options %q: %v", nw.c.Head().ID, sp.name, sp.spec, err)}
	}
	// The driver's options travel with the program, so that the calls its
	// tasks make here follow the driver's decisions.
	plan, _ := fp.PlanWith(opt)
	p, err := fp.LoadPlanned(nw.c.Head().newThread("loader", "load"), plan)
	if err != nil {
		return nil, err
	}
	p.Hash = hash
	nw.programs.put(p, sp.jobLimits)
	return p, nil
}

// limitsOf are the limits of the job of a call: its step limit (run
// --max-steps travels with the job, so a task is limited on a node as it
// is embedded) and its memory cap (run --max-memory), each the one its
// driver shipped with the program, else this process's own (for the
// jobs it drives, and embedded).
func (c *Cluster) limitsOf(call *exec.TaskCall) jobLimits {
	lim := jobLimits{maxSteps: c.cfg.MaxSteps, maxMemory: c.cfg.MaxMemory}
	if shipped, ok := c.shippedLimits(call); ok {
		if shipped.maxSteps > 0 {
			lim.maxSteps = shipped.maxSteps
		}
		if shipped.maxMemory > 0 {
			lim.maxMemory = shipped.maxMemory
		}
	}
	return lim
}

// shippedLimits are the limits the driver of call's job shipped with its
// program, when this process loaded it from the GCS.
func (c *Cluster) shippedLimits(call *exec.TaskCall) (jobLimits, bool) {
	var prog *exec.Program
	switch {
	case call == nil:
	case call.Func != nil:
		prog = call.Func.Program()
	case call.Class != nil:
		prog = call.Class.Program()
	}
	if c.net == nil || prog == nil || prog.Hash == "" {
		return jobLimits{}, false
	}
	return c.net.programs.limits(prog.Hash)
}

// checkProgramHash refuses a program whose blob, as the GCS returned it,
// is not what hash names.
func checkProgramHash(node, hash string, blob []byte) error {
	if got := gcs.ProgramHash(blob); got != hash {
		return &refusedProgramError{fmt.Sprintf("node %s refuses program %s: what the GCS returned for it does not match its hash (its content hashes to %s)",
			node, gcs.ShortHash(hash), gcs.ShortHash(got))}
	}
	return nil
}

// refusedProgramError is why a node will not load a program: its source
// does not match its hash, or the node lacks Go functions or modules the
// program uses (registered in the process that sent it, not in this one).
// Sending the task again cannot help, so the task fails with it.
type refusedProgramError struct{ msg string }

func (e *refusedProgramError) Error() string { return e.msg }

// errCannotRun is what a refusedProgramError is (errors.Is): a definite
// refusal, which goes on the wire with CodeCannotRun.
var errCannotRun = errors.New("the node cannot run this program")

func (e *refusedProgramError) Is(target error) bool { return target == errCannotRun }

// RegisterProgram makes a program this process loaded known by its hash,
// storing its source in the GCS so that other nodes can load it.
func (c *Cluster) RegisterProgram(p *exec.Program, source string) error {
	return c.scope.registerProgram(p, source)
}

func (nw *network) registerProgram(p *exec.Program, source string) error {
	spec := ""
	if p.Plan != nil {
		spec = p.Plan.Spec
	}
	lim := jobLimits{maxSteps: nw.c.cfg.MaxSteps, maxMemory: nw.c.cfg.MaxMemory}
	blob := programBlob(shippedProgram{name: p.File, source: source, needs: frontend.Needs(p.Compiled), spec: spec, jobLimits: lim})
	p.Hash = gcs.ProgramHash(blob)
	nw.programs.put(p, lim)
	nw.programs.ship(p.Hash)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := nw.hc.GCS(ctx, wire.GCSPutProgram, blob); err != nil {
		return err
	}
	nw.loadProgramAhead(p.Hash)
	return nil
}

// loadProgramAhead asks the other nodes of this process's view to load
// program hash now (one-way, wire.QueryLoadProgram), so that the first
// task a node runs of it does not wait for the GCS and the compiler; a
// node that does not get the message loads it at its first task, as
// before. The message names this process's address too, so that each
// node connects back to it now (warmDriver), not when it sends its first
// result. (Sent in turn: sent each on its own goroutine, they let the
// program start with its dials still under way, and its first tasks
// waited on them, slower on the whole in bench/cluster.sh runs.)
func (nw *network) loadProgramAhead(hash string) {
	msg := append([]byte{wire.QueryLoadProgram}, wire.EncodeStrings(hash, nw.addr)...)
	for _, addr := range nw.view.addrs() {
		if addr != nw.addr && !nw.isDead(addr) {
			nw.pool.Send(addr, transport.Query, msg)
		}
	}
}

// handleLoadProgram loads a program ahead of its tasks, off the
// connection's goroutine (one-way messages are handled in order there,
// and a compile would hold up the results behind it). A second load of
// the same program meanwhile waits for this one (programCache.begin).
// The driver's address, when the message names one, is dialled now.
func (nw *network) handleLoadProgram(payload []byte) error {
	ss, err := wire.DecodeStrings(payload)
	if err != nil || len(ss) < 1 || len(ss) > 2 {
		return wire.ErrMalformed
	}
	if nw.programs.get(ss[0]) == nil {
		go nw.program(ss[0])
	}
	if len(ss) == 2 {
		go nw.warmDriver(ss[1])
	}
	return nil
}

// warmDriverTimeout bounds warmDriver's dial.
const warmDriverTimeout = 5 * time.Second

// warmDriver connects to the driver at addr ahead of its tasks' results:
// a node's first result for a new driver otherwise waits for the heads
// to vouch for the address (dialpolicy.go) and for the dial and its
// handshake, about a millisecond on loopback, paid by each node in each
// job. The driver took its job's lease before it stored the program, so
// the heads know its address; if they do not (yet), nothing is dialled
// and nothing is logged here: the first result asks again, as before,
// and a failed warm-up never leaves the pool waiting out a backoff.
func (nw *network) warmDriver(addr string) {
	if addr == nw.addr || head.CheckAddress(addr) != nil || nw.pool.Connected(addr) {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), warmDriverTimeout)
	defer cancel()
	if ok, err := nw.vouchedFor(ctx, addr); err != nil || !ok {
		return // the first result asks again, through mayDial
	}
	nw.pool.Get(ctx, addr)
}

// PutStats keeps the adaptive planner's statistics of a program (see
// planner/adapt) in the GCS under key, for the next run.
func (c *Cluster) PutStats(key string, blob []byte) error { return c.scope.putStats(key, blob) }

// GetStats returns the statistics kept under key; nil when there are
// none.
func (c *Cluster) GetStats(key string) ([]byte, error) { return c.scope.getStats(key) }

func (nw *network) putStats(key string, blob []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := nw.hc.GCS(ctx, wire.GCSPutStats, wire.EncodeStrings(key, string(blob)))
	return err
}

func (nw *network) getStats(key string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return nw.hc.GCS(ctx, wire.GCSGetStats, wire.EncodeStrings(key))
}

// shippedProgram is what the programs table stores of a program: the
// file name (so that errors raised on other nodes name the user's file),
// the names it needs beyond the standard library (frontend.Needs), the
// options the driver planned it with (planner.Opt.Spec: every node plans
// it the same way), the limits of its job (run --max-steps and
// --max-memory; 0 for none), and the source.
type shippedProgram struct {
	name, source string
	needs        []string
	spec         string
	jobLimits
}

// A program planned with the source's hints only (spec "") is stored as
// NAME NUL NEEDS NUL SOURCE, the needs separated by newlines; one planned
// with options as SOH NAME NUL NEEDS NUL SPEC NUL SOURCE. Neither names,
// needs nor specs hold a NUL, and no file name starts with SOH, so both
// forms read back; the source may hold anything. Programs differing only
// in their options have different hashes. One run with a step limit is
// stored as STX NAME NUL NEEDS NUL SPEC NUL STEPS NUL SOURCE, STEPS in
// decimal; one with a memory cap as ETX NAME NUL NEEDS NUL SPEC NUL STEPS
// NUL MEMORY NUL SOURCE (MEMORY in bytes, decimal); without either, as
// before.
const (
	specMark   = "\x01"
	stepsMark  = "\x02"
	limitsMark = "\x03"
)

// programBlob encodes a shippedProgram.
func programBlob(sp shippedProgram) []byte {
	head := sp.name + "\x00" + strings.Join(sp.needs, "\n") + "\x00"
	switch {
	case sp.maxMemory > 0:
		return []byte(limitsMark + head + sp.spec + "\x00" + strconv.FormatInt(sp.maxSteps, 10) + "\x00" +
			strconv.FormatInt(sp.maxMemory, 10) + "\x00" + sp.source)
	case sp.maxSteps > 0:
		return []byte(stepsMark + head + sp.spec + "\x00" + strconv.FormatInt(sp.maxSteps, 10) + "\x00" + sp.source)
	case sp.spec == "":
		return []byte(head + sp.source)
	}
	return []byte(specMark + head + sp.spec + "\x00" + sp.source)
}

func splitProgramBlob(blob []byte) shippedProgram {
	text, withSpec := strings.CutPrefix(string(blob), specMark)
	text, withSteps := strings.CutPrefix(text, stepsMark)
	text, withMemory := strings.CutPrefix(text, limitsMark)
	withSteps = withSteps || withMemory
	withSpec = withSpec || withSteps
	name, rest, ok := strings.Cut(text, "\x00")
	if !ok {
		return shippedProgram{name: "program.rayflow", source: string(blob)}
	}
	needs, rest, ok := strings.Cut(rest, "\x00")
	if !ok {
		return shippedProgram{name: name, source: rest}
	}
	sp := shippedProgram{name: name, source: rest}
	if withSpec {
		sp.spec, sp.source, _ = strings.Cut(rest, "\x00")
	}
	if withSteps {
		var steps string
		steps, sp.source, _ = strings.Cut(sp.source, "\x00")
		sp.maxSteps, _ = strconv.ParseInt(steps, 10, 64)
	}
	if withMemory {
		var memory string
		memory, sp.source, _ = strings.Cut(sp.source, "\x00")
		sp.maxMemory, _ = strconv.ParseInt(memory, 10, 64)
	}
	if needs != "" {
		sp.needs = strings.Split(needs, "\n")
	}
	return sp
}
