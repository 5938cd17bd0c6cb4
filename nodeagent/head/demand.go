package head

import (
	"sync"

	"github.com/rayflow/rayflow/nodeagent/resources"
)

// maxCachedDemands bounds the demand cache: a cluster's jobs ask for few
// distinct resource maps, while a peer can send any number of them.
const maxCachedDemands = 4096

// demandCache holds parsed resource maps by their encoding, so that the
// many Place requests of a cluster parse each distinct demand once. It
// holds at most maxCachedDemands entries; once full it caches nothing
// more (a demand not cached is parsed each time, which is correct, only
// slower). Any goroutine may use it.
type demandCache struct {
	mu sync.RWMutex
	m  map[string]resources.Resources
}

// get returns the demand encoded as key, if cached.
func (c *demandCache) get(key []byte) (resources.Resources, bool) {
	c.mu.RLock()
	d, ok := c.m[string(key)]
	c.mu.RUnlock()
	return d, ok
}

// put caches d under key unless the cache is full.
func (c *demandCache) put(key []byte, d resources.Resources) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]resources.Resources{}
	}
	if len(c.m) < maxCachedDemands {
		c.m[string(key)] = d
	}
}

// len is how many demands are cached.
func (c *demandCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m)
}
