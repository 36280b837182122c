package kubernetes_test

import (
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// partition is a TCP proxy in front of an API server that can cut the network as a partition
// does: bytes go nowhere and connections neither answer nor close. When it heals, new
// connections pass, but those open during the cut stay dead, as after a lost NAT or conntrack
// entry: the client has to notice by itself (client-go's HTTP/2 health check) and reconnect.
// A stopped API server (connection refused) is the other outage, tested apart.
type partition struct {
	ln     net.Listener
	target string
	cut    atomic.Bool
	mu     sync.Mutex
	conns  []*proxied
}

// proxied is one client connection and, unless it arrived during a cut, its upstream.
type proxied struct {
	client, upstream net.Conn
	dead             atomic.Bool
}

func newPartition(t *testing.T, target string) *partition {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &partition{ln: ln, target: strings.TrimPrefix(target, "https://")}
	go p.accept()
	t.Cleanup(p.close)
	return p
}

// URL is the address to give clients in place of the API server's.
func (p *partition) URL() string { return "https://" + p.ln.Addr().String() }

// Cut starts the partition: every open connection goes dead, new ones hang.
func (p *partition) Cut() {
	p.cut.Store(true)
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.dead.Store(true)
	}
}

// Heal ends it for new connections only.
func (p *partition) Heal() { p.cut.Store(false) }

func (p *partition) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		pc := &proxied{client: c}
		if p.cut.Load() {
			pc.dead.Store(true) // the SYN got an answer in the kernel; nothing more will
		} else if pc.upstream, err = net.Dial("tcp", p.target); err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, pc)
		p.mu.Unlock()
		go pc.pipe(pc.client, pc.upstream)
		if pc.upstream != nil {
			go pc.pipe(pc.upstream, pc.client)
		}
	}
}

// pipe copies src to dst until src ends, then ends the connection. Once the connection is
// dead, what it reads is lost, and an end from the server side is not passed on either: a
// partition delivers no FIN.
func (pc *proxied) pipe(src, dst net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && dst != nil && !pc.dead.Load() {
			if _, err := dst.Write(buf[:n]); err != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	if pc.upstream != nil {
		pc.upstream.Close()
	}
	if src == pc.client || !pc.dead.Load() {
		pc.client.Close()
	}
}

func (p *partition) close() {
	p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.client.Close()
		if c.upstream != nil {
			c.upstream.Close()
		}
	}
}
