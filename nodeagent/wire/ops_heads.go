package wire

// GCS request operations between heads (the first byte of a GCSRequest
// payload, as in ops.go; numbered apart so that the two lists grow
// without meeting).
const (
	// GCSForward (gcs forwarding request) hands a GCS replica's write or
	// membership change to the head whose replica leads the shard: the
	// body is the gcs package's own bytes (gcs.Store.ServeForwarded),
	// and so is the reply.
	GCSForward byte = 64
)
