package nodeagent

import (
	"context"
	"sync"
	"time"

	"github.com/rayflow/rayflow/nodeagent/wire"
	"github.com/rayflow/rayflow/stash"
)

// The lineage stash's flusher writes a batch of records already encoded
// (gcs.TaskBatch) when its store takes one (stash.BatchStore): the GCS
// keeps the bytes as one row, and over a cluster the head stores them
// without decoding and encoding the records again.

var (
	_ stash.BatchStore = (*lazyStore)(nil)
	_ stash.BatchStore = headStore{}
)

// PutTaskBatch writes the batch once the GCS is open.
func (l *lazyStore) PutTaskBatch(batch []byte) stash.Waiter {
	st, err := l.get()
	if err != nil {
		return stash.WaiterFunc(func(context.Context) error { return err })
	}
	return stash.GCS(st).PutTaskBatch(batch)
}

// PutTaskBatch sends the batch to a head (wire.GCSPutTaskBatch).
func (h headStore) PutTaskBatch(batch []byte) stash.Waiter {
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, err := h.nw.hc.GCS(ctx, wire.GCSPutTaskBatch, batch)
		done <- err
	}()
	var once sync.Once
	var result error
	return stash.WaiterFunc(func(ctx context.Context) error {
		select {
		case err := <-done:
			once.Do(func() { result = err })
		case <-ctx.Done():
			return ctx.Err()
		}
		return result
	})
}
