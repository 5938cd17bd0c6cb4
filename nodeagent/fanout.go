package nodeagent

import (
	"context"
	"sync"

	"github.com/rayflow/rayflow/nodeagent/transport"
)

// askEach sends query to every address of addrs but this process's own,
// all at once, and waits for every answer or ctx's end. each is called
// with the payload of every answer that came back, one call at a time
// (under a lock of askEach's own), so it may gather into plain
// variables; an address that fails or does not answer in time is left
// out.
func (nw *network) askEach(ctx context.Context, addrs []string, query []byte, each func(addr string, payload []byte)) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, addr := range addrs {
		if addr == nw.addr {
			continue
		}
		wg.Go(func() {
			rep, err := nw.pool.Call(ctx, addr, transport.Query, query)
			if err != nil || each == nil {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			each(addr, rep.Payload)
		})
	}
	wg.Wait()
}
