// Package stdlib holds rayflow's built-in modules: math, random, nd
// (dense float64 tensors), str, json, time, io (confined to the run's
// working directory), rl (reinforcement-learning environments) and sys.
//
// Every module is an *exec.Module whose members are *exec.Builtin
// functions and constants. Modules returns fresh instances; the compiler
// reads the Nondeterministic flags of the built-ins for its determinism
// analysis and the evaluator puts the modules in scope of every program.
//
// Besides the modules, the package exports Arith (installed as
// exec.TensorArith when the package is loaded) and Neg, which the
// evaluator uses for the operators + - * / and unary - when a tensor is
// involved. REFERENCE.md documents every function.
//
// # Ownership and threading
//
// A module's Members are filled by its constructor and only read
// afterwards; every thread that runs a program shares the program's
// modules, so what the built-ins change is either the thread's or
// locked:
//
//   - random: a thread's module-level draws come from a generator kept in
//     that thread's exec.Thread.Local (made on its first draw, so each
//     task replays its own draws); a thread without Local draws from the
//     module instance's shared unseeded generator. A Generator's state is
//     guarded by its mutex, so its methods are safe on any goroutine; it
//     is a Copier, so a generator passed to a task is a copy.
//   - rl: an Env's episode state (its dynamics, step count, whether an
//     episode runs, its random stream) is guarded by Env.mu.
//   - io: reads the thread's WorkDir and Local (IOAllowOutsideKey, and
//     IOWorkDirKey, whose function the host makes safe to call from any
//     thread); the files are the program's.
//
// Package-level state: the function tables (nd, str, rng methods,
// environment specs; filled by their literals or at init, then only
// read), and processStart (the time the package was loaded,
// for time.monotonic). The package's init sets exec.TensorArith and
// exec.StringFormat, once, before any program runs. The str functions
// that are also string methods (split, find, startswith, ...) are exec's
// methods (exec.StringMethod), so both spellings behave the same.
//
// Consumers: package frontend, which adds Modules to every program's
// universe. stdlib imports exec, never the reverse: exec gets the two
// hooks above instead.
package stdlib
