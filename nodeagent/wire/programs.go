package wire

// QueryLoadProgram (program hash, then the driver's address), sent
// one-way by a driver to the nodes of its view once it has stored a
// program in the GCS, asks each node to load and compile the program
// ahead of its first task there, and to connect to the driver (nodeagent's
// programs.go): a task's first run on a node then does not wait for the
// GCS, the compiler and a dial to the driver. The address may be missing
// (a sender before it was added). No reply.
const QueryLoadProgram byte = 70
