package sandbox

// PledgePromises returns the promises that Restrict pledges on OpenBSD
// (pledge(2)) for p, and the notice it gives for what they cannot
// restrict, "" for none: "stdio rpath tty" always; "wpath cpath" when
// p.Write names a directory; "inet" unless p.NoSockets, or when p.Accept.
//
// OpenBSD has no promise for accepting on a listening socket that does
// not also allow new sockets: accept(2) and setsockopt(2) on an AF_INET
// socket need "inet", which allows socket(2) and connect(2) as well. A
// server's pledge, unlike its seccomp filter on Linux, therefore cannot
// keep it from opening new sockets, and the notice says so. (Under
// "stdio", socketpair(2) stays allowed even without "inet": such sockets
// reach no network.)
//
// It depends on the policy alone, so that the tests of every system check
// what OpenBSD is asked.
func PledgePromises(p Policy) (promises, notice string) {
	promises = "stdio rpath tty"
	if len(p.Write) > 0 {
		promises += " wpath cpath"
	}
	switch {
	case p.NoSockets && p.Accept:
		promises += " inet"
		notice = `sandbox: pledge cannot keep a server from opening new sockets (accepting connections needs "inet")`
	case !p.NoSockets:
		promises += " inet"
	}
	return promises, notice
}
