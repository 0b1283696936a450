"""The build script drives the compiler itself, as uWSGI's does: the user's CFLAGS first, then
its own -g, the sources by absolute path (so __FILE__ holds the build directory), helper objects
archived with `ar` in whatever order the directory lists them and with their real mtimes (U, as
ar does where binutils is not built deterministic), and the module linked with them. Like numpy
with its libnpymath.a, the package ships the archive too, for others to link with. pip builds
this sdist in a random temp directory."""

import os
import shlex
import shutil
import subprocess
import sysconfig

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = os.path.abspath(os.path.dirname(__file__))


def run(*command: str) -> None:
    print("handbuilt:", shlex.join(command), flush=True)
    subprocess.run(command, check=True)


class BuildByHand(build_ext):
    def build_extension(self, ext: Extension) -> None:
        cc = shlex.split(os.environ.get("CC", "cc"))
        flags = [*shlex.split(os.environ.get("CFLAGS", "")), "-fPIC", "-O2", "-g"]
        objects = os.path.join(HERE, "build", "objects")
        os.makedirs(objects, exist_ok=True)
        for name in ("tally.c", "stamp.c"):
            source = os.path.join(HERE, "src", name)
            run(*cc, *flags, "-c", source, "-o", os.path.join(objects, name[:-2] + ".o"))
        archive = os.path.join(HERE, "build", "libhelpers.a")
        members = [os.path.join(objects, name) for name in os.listdir(objects)]
        run("ar", "rcsU", archive, *members)
        target = self.get_ext_fullpath(ext.name)
        shipped = os.path.join(os.path.dirname(target), "handbuilt_static")
        os.makedirs(shipped, exist_ok=True)
        shutil.copyfile(archive, os.path.join(shipped, "libhelpers.a"))
        include = sysconfig.get_paths()["include"]
        module = os.path.join(HERE, "src", "handbuilt.c")
        run(*cc, *flags, f"-I{include}", "-shared", module, archive, "-o", target)


setup(ext_modules=[Extension("handbuilt", sources=[])], cmdclass={"build_ext": BuildByHand})
