module wayroute.dev/test/gotar

go 1.22
