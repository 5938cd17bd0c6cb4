package wire

// QueryLoadProgram (program hash), sent one-way by a driver to the nodes
// of its view once it has stored a program in the GCS, asks each node to
// load and compile the program ahead of its first task there
// (nodeagent's programs.go): a task's first run on a node then does not
// wait for the GCS and the compiler. No reply.
const QueryLoadProgram byte = 70
