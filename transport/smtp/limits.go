package smtp

import (
	"io"
	"net"
	"time"
)

// listener admits connections within the Server's limits. One over them
// is answered 421 at once and closed, so the sending server tries again
// later (RFC 5321 section 3.8), rather than left waiting in the backlog.
type listener struct {
	net.Listener
	s *Server
}

func (l *listener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ip := c.RemoteAddr().String()
		if h, _, err := net.SplitHostPort(ip); err == nil {
			ip = h
		}
		if msg := l.s.admit(ip); msg != "" {
			_ = c.SetWriteDeadline(time.Now().Add(time.Second))
			_, _ = io.WriteString(c, "421 4.7.0 "+l.s.opts.Domain+" "+msg+", try again later\r\n")
			_ = c.Close()
			continue
		}
		return newWire(c, l.s, func() { l.s.leave(ip) }), nil
	}
}

// admit counts a new connection from ip, or returns why it cannot be
// taken.
func (s *Server) admit(ip string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.conns >= s.opts.MaxConnections:
		return "Too many connections"
	case s.perIP[ip] >= s.opts.MaxConnectionsPerIP:
		return "Too many connections from your address"
	}
	s.conns++
	s.perIP[ip]++
	return ""
}

// leave uncounts a connection from ip.
func (s *Server) leave(ip string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.conns--
	if s.perIP[ip]--; s.perIP[ip] <= 0 {
		delete(s.perIP, ip)
	}
}
