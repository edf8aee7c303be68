// An empty stand-in for libopencv_highgui, loaded only by the `otcs` command line.
//
// Debian's libtorch_cpu.so.1.13 lists every OpenCV module as NEEDED, among them libopencv_highgui, which pulls in
// Qt 5 (Core, Gui, Widgets, OpenGL, Test). libtorch_cpu imports no symbol from highgui: app/CMakeLists.txt checks
// that at configure time and only then builds this library, under highgui's soname, into build/lib/cli-only/,
// which `otcs` searches first through its DT_RPATH. The command line then loads no Qt library at all (and starts
// faster); the GUI and the tests load the real highgui as before.
extern "C" int otcs_highgui_stub_marker();
extern "C" int otcs_highgui_stub_marker() { return 0; }
