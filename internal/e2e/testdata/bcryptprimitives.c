/*
 * A bcryptprimitives.dll for Wine 8, which lacks ProcessPrng: Go's Windows
 * runtime (Go 1.24 and later) calls it for random bytes at startup. It fills
 * the buffer with RtlGenRandom (SystemFunction036 in advapi32), which Wine
 * has. The e2e test builds it with mingw-w64 into a temporary WINEPREFIX:
 *
 *   x86_64-w64-mingw32-gcc -shared -O2 -s -o bcryptprimitives.dll \
 *       bcryptprimitives.c -ladvapi32
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
	while (len > 0) {
		ULONG chunk = len > 0x10000000 ? 0x10000000 : (ULONG)len;
		if (!SystemFunction036(data, chunk))
			return FALSE;
		data += chunk;
		len -= chunk;
	}
	return TRUE;
}

BOOL WINAPI DllMain(HINSTANCE instance, DWORD reason, LPVOID reserved)
{
	return TRUE;
}
