package serve

import (
	"fmt"
	"sync"
	"time"

	"github.com/rayflow/rayflow/exec"
)

// Batching (@serve(max_batch=B, batch_wait_ms=W), as Ray's @serve.batch):
// the requests to a method that arrive together are grouped, up to B,
// waiting at most W ms after the first; the method receives the list of
// their inputs and returns a list of as many results, the i-th the
// answer of the i-th request.

// batcher groups the requests to one method of a deployment. Its loop
// goroutine owns the batch being filled; stop ends it.
type batcher struct {
	app    *App
	d      *deployment
	method string
	in     chan *pending
	done   chan struct{}
	once   sync.Once
}

// pending is one request waiting in a batch: its input and where its
// answer goes.
type pending struct {
	input  exec.Value
	answer chan result
}

// result is one request's answer: its value, or the error of its batch.
type result struct {
	value exec.Value
	err   error
}

func newBatcher(a *App, d *deployment, method string) *batcher {
	b := &batcher{app: a, d: d, method: method, in: make(chan *pending), done: make(chan struct{})}
	go b.loop()
	return b
}

// call sends one input to the method through its batches and waits for
// its answer.
func (b *batcher) call(input exec.Value) (exec.Value, error) {
	p := &pending{input: input, answer: make(chan result, 1)}
	select {
	case b.in <- p:
	case <-b.done:
		return exec.None, exec.Errorf(exec.KindCancelled, "the application is shutting down")
	}
	r := <-p.answer
	return r.value, r.err
}

// loop fills batches and sends each off as it is full or its wait ends.
func (b *batcher) loop() {
	wait := time.Duration(b.d.spec.BatchWaitMS) * time.Millisecond
	for {
		var first *pending
		select {
		case first = <-b.in:
		case <-b.done:
			return
		}
		batch := []*pending{first}
		timer := time.NewTimer(wait)
	fill:
		for len(batch) < b.d.spec.MaxBatch {
			select {
			case p := <-b.in:
				batch = append(batch, p)
			case <-timer.C:
				break fill
			case <-b.done:
				timer.Stop()
				b.fail(batch, exec.Errorf(exec.KindCancelled, "the application is shutting down"))
				return
			}
		}
		timer.Stop()
		go b.run(batch)
	}
}

// run calls the method with the batch's inputs and answers each request.
func (b *batcher) run(batch []*pending) {
	inputs := make([]exec.Value, len(batch))
	for i, p := range batch {
		inputs[i] = p.input
	}
	v, err := b.app.call(b.d, b.method, []exec.Value{exec.ListValue(&exec.List{Elems: inputs})}, nil)
	if err == nil && (v.Kind() != exec.ListKind || len(v.AsList().Elems) != len(batch)) {
		err = exec.Errorf(exec.KindValue, "%s.%s is batched (max_batch=%d): it must return a list of one result per input, but it returned %s for a batch of %d",
			b.d.class.Name(), b.method, b.d.spec.MaxBatch, describe(v), len(batch))
	}
	if err != nil {
		b.fail(batch, err)
		return
	}
	for i, p := range batch {
		p.answer <- result{value: v.AsList().Elems[i]}
	}
}

// describe says what a batched method returned instead of a list of the
// right length.
func describe(v exec.Value) string {
	if v.Kind() == exec.ListKind {
		return fmt.Sprintf("a list of %d", len(v.AsList().Elems))
	}
	return "a " + v.TypeName()
}

func (b *batcher) fail(batch []*pending, err error) {
	for _, p := range batch {
		p.answer <- result{err: err}
	}
}

func (b *batcher) stop() { b.once.Do(func() { close(b.done) }) }
