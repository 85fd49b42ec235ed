package supervisor

import (
	"bufio"
	"context"
	"github.com/myriadws/myriad/internal/reuseport"
	"net"
	"testing"
	"time"

	"github.com/panjf2000/gnet/v2"
)

// greeter is a gnet handler that writes one line to every new connection.
type greeter struct {
	gnet.BuiltinEventEngine
	booted chan gnet.Engine
}

func (g *greeter) OnBoot(e gnet.Engine) gnet.Action { g.booted <- e; return gnet.None }

func (g *greeter) OnOpen(gnet.Conn) ([]byte, gnet.Action) { return []byte("gnet\n"), gnet.Close }

// TestGnetSharesReservedPort checks the workers' real listener: gnet with
// WithReusePort(true) binds one SO_REUSEPORT socket per event loop on the
// reserved port, next to a net listener opened by Listen.
func TestGnetSharesReservedPort(t *testing.T) {
	r, err := reuseport.Reserve("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Release()
	g := &greeter{booted: make(chan gnet.Engine, 1)}
	errc := make(chan error, 1)
	go func() {
		errc <- gnet.Run(g, "tcp://"+r.Addr(), gnet.WithReusePort(true), gnet.WithNumEventLoop(2))
	}()
	var eng gnet.Engine
	select {
	case eng = <-g.booted:
	case err := <-errc:
		t.Fatalf("gnet on a reserved port: %v", err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = eng.Stop(ctx)
		<-errc
	}()
	ln, err := reuseport.Listen(context.Background(), "tcp", r.Addr())
	if err != nil {
		t.Fatalf("net listener beside gnet: %v", err)
	}
	go answer(ln, "net\n", nil)
	defer ln.Close()

	seen := map[string]bool{}
	eventually(t, "answers from gnet and the net listener", func() bool {
		c, err := net.Dial("tcp", r.Addr())
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		defer c.Close()
		_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
		line, err := bufio.NewReader(c).ReadString('\n')
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		seen[line] = true
		return seen["gnet\n"] && seen["net\n"]
	})
}
