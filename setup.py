"""Build the optional compiled loops (``analyzer.capture._walk``: the record walk, the
record header fields, the link/IP/UDP decoding, the payload head dissection, the flow map,
and the per-stream RTP passes: column gathers, clock fit, TShark's statistics).

Everything else is declared in pyproject.toml. When the C compiler or the Python headers
are missing, the build goes on without the extension and says so in one line; the reader
then runs its Python and numpy code instead (the same results, slower).
"""

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

NOTICE = "analyzer: compiled reader loops not built ({}); using the Python/numpy fallback"


class OptionalBuildExt(build_ext):
    failed = False

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:  # any build failure means the fallback
            if not self.failed:  # (--inplace then fails to copy what was not built)
                print(NOTICE.format(exc))

    def build_extension(self, ext: Extension) -> None:
        try:
            super().build_extension(ext)
        except Exception as exc:
            self.failed = True
            print(NOTICE.format(exc))


setup(
    ext_modules=[Extension("analyzer.capture._walk", ["analyzer/capture/_walk.c"],
                           extra_compile_args=["-O2"])],
    cmdclass={"build_ext": OptionalBuildExt},
)
