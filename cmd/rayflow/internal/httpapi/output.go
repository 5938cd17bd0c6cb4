package httpapi

import (
	"fmt"
	"strings"
	"sync"
)

// maxJobOutput bounds the output a job's answer carries: a job that
// prints more keeps its first maxJobOutput bytes and a marker of how
// much more it printed (1 GB of prints took a head to 8.5 GB).
const maxJobOutput = 1 << 20

// cappedOutput keeps the first maxJobOutput bytes written to it and
// counts the rest. Nodes' prints arrive on their own goroutines.
type cappedOutput struct {
	mu      sync.Mutex
	kept    strings.Builder
	dropped int64
}

func (c *cappedOutput) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	room := maxJobOutput - c.kept.Len()
	if room >= len(p) {
		c.kept.Write(p)
		return len(p), nil
	}
	c.kept.Write(p[:max(room, 0)])
	c.dropped += int64(len(p) - max(room, 0))
	return len(p), nil
}

// String is what was kept, with the marker when some was dropped.
func (c *cappedOutput) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dropped == 0 {
		return c.kept.String()
	}
	return c.kept.String() + fmt.Sprintf("\n[output truncated: %d more bytes were printed after the first %d]\n", c.dropped, maxJobOutput)
}
