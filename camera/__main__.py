"""Run the wall camera: ``python -m camera --camera 0 --post URL --token TOKEN``."""

from camera.cli import main

main()
