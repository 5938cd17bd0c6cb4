// Command servebase is the physical limit `rayflow serve` is measured
// against (bench/serve.sh): a plain fasthttp handler doing the same JSON
// work as a served trivial method — decode the body's array with the
// json module, add one to its first element, encode the result — in
// process, with no actor, no replica and no runtime.
//
//	servebase -addr 127.0.0.1:27300
package main

import (
	"flag"
	"log"

	"github.com/rayflow/rayflow/exec"
	"github.com/rayflow/rayflow/stdlib"
	"github.com/valyala/fasthttp"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8001", "where to listen")
	flag.Parse()
	log.Fatal(fasthttp.ListenAndServe(*addr, handle))
}

// handle answers POST /inc/inc with [x] by x + 1, as the served
// method `inc(x) { return x + 1 }` does.
func handle(ctx *fasthttp.RequestCtx) {
	v, err := stdlib.DecodeJSON(string(ctx.PostBody()))
	if err != nil || v.Kind() != exec.ListKind || len(v.AsList().Elems) != 1 {
		ctx.SetStatusCode(fasthttp.StatusBadRequest)
		return
	}
	out, err := stdlib.EncodeJSON(exec.Int(v.AsList().Elems[0].AsInt() + 1))
	if err != nil {
		ctx.SetStatusCode(fasthttp.StatusInternalServerError)
		return
	}
	ctx.SetContentType("application/json")
	ctx.SetBodyString(out)
}
