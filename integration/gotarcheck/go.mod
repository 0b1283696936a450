module gotarcheck

go 1.19
